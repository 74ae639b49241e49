"""`credsim dashboard`: a web page on 127.0.0.1 to run, watch and compare scenarios.

Not imported by `import credsim`: the CLI imports `credsim.dashboard.server` when asked.
levers.py (the controls and their sentences), inputs.py (checking what the page sends),
runs.py (runs in the background), view.py (what the page draws), server.py (the routes),
static/ (the page itself: HTML, CSS and JavaScript, no framework, no CDN).
"""
