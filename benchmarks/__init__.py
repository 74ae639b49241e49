"""credsim's performance benchmarks (issue #3); not part of the test suite. See README.md."""
