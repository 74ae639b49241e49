"""A software prefetch for compiled kernels: `prefetch(array, index)` asks the caches for the
line that holds array[index] ahead of its use.

For loops whose loads depend on other loads (a tie's row, found from its owner) and whose
branches are hard to predict, so that the processor cannot run ahead by itself: the hint
starts the fetch a few iterations early.  It never faults (any index is allowed) and changes
no result.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):
    """llvm.prefetch of &arr[idx] (1-d array, integer index): a read, kept in every level."""
    if not isinstance(arr, types.Array) or arr.ndim != 1 or not isinstance(idx, types.Integer):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        i64 = ir.IntType(64)
        index = args[1]
        if index.type.width < 64:
            index = builder.sext(index, i64) if idxty.signed else builder.zext(index, i64)
        size = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
        address = builder.add(builder.ptrtoint(ary.data, i64), builder.mul(index, ir.Constant(i64, size)))
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read (0), keep in every cache level (3), a data access (1)
        builder.call(fn, [builder.inttoptr(address, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
