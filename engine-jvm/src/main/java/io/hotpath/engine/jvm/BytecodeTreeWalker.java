package io.hotpath.engine.jvm;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_float;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_void;
import static java.lang.constant.ConstantDescs.INIT_NAME;
import static java.lang.constant.ConstantDescs.MTD_void;

import io.hotpath.core.HotpathException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.MethodModel;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks trees compiled to bytecode with the JDK's ClassFile API: one static method per tree,
 * straight-line if/else with each threshold and feature index a constant, returning the leaf.
 * Trees are grouped into hidden classes ({@link MethodHandles.Lookup#defineHiddenClass}) of at
 * most {@link #CHUNK_TREES} trees and {@link #CHUNK_BRANCHES} branches, to stay inside a class's
 * 65535 constant-pool entries; each class's {@code leaves} method calls its trees in order.
 * HotSpot does not JIT-compile methods over 8000 bytes, so a subtree whose code would make its
 * method larger than {@link #SPLIT_BYTES} becomes a method of its own, called (a tail call) where
 * it would have been inlined; should a method still exceed {@link #MAX_METHOD_BYTES},
 * {@link #generate} returns null and the caller uses the arrays.
 */
final class BytecodeTreeWalker implements TreeWalker {
    static final int CHUNK_TREES = 256;
    static final int CHUNK_BRANCHES = 16_000;
    static final int MAX_METHOD_BYTES = 8000;
    static final int SPLIT_BYTES = 4000;

    /** What each generated class implements: the leaves of its trees for the row at {@code off}. */
    interface Chunk {
        void leaves(float[] x, int off, int[] out, int outOff);

        /**
         * {@code s} plus each of its trees' one-target leaf value for the row at {@code off}, added
         * in tree order in float32; generated only when the walker was asked for sums.
         */
        float sum(float[] x, int off, float s);
    }

    private final Chunk[] chunks;
    private final int[] firstTree;
    private final int trees;
    private final boolean sums;

    private BytecodeTreeWalker(Chunk[] chunks, int[] firstTree, int trees, boolean sums) {
        this.chunks = chunks;
        this.firstTree = firstTree;
        this.trees = trees;
        this.sums = sums;
    }

    /**
     * The walker for {@code e}, or null when a tree is too large for one JIT-compiled method. With
     * {@code sums} (one target only) each tree is generated a second time returning its leaf's value
     * instead of its number, so {@link #sums} adds the values while it walks: the chain of additions
     * then overlaps the walks instead of running after them.
     */
    static BytecodeTreeWalker generate(TreeEnsemble e, boolean sums) {
        if (sums && e.targets != 1) {
            throw new IllegalArgumentException("sums need one target, not " + e.targets);
        }
        List<Chunk> chunks = new ArrayList<>();
        List<Integer> firsts = new ArrayList<>();
        int t = 0;
        while (t < e.trees()) {
            int end = t;
            int branches = 0;
            while (end < e.trees() && end - t < CHUNK_TREES && (end == t || branches + size(e, e.roots[end]) <= CHUNK_BRANCHES)) {
                branches += size(e, e.roots[end]);
                end++;
            }
            Chunk c = chunk(e, t, end, sums);
            if (c == null) {
                return null;
            }
            chunks.add(c);
            firsts.add(t);
            t = end;
        }
        return new BytecodeTreeWalker(chunks.toArray(new Chunk[0]), firsts.stream().mapToInt(Integer::intValue).toArray(), e.trees(), sums);
    }

    private static int size(TreeEnsemble e, int n) {
        return n < 0 ? 0 : 1 + size(e, e.children[2 * n]) + size(e, e.children[2 * n + 1]);
    }

    private static final ClassDesc CHUNK = ClassDesc.of(Chunk.class.getName());
    private static final MethodTypeDesc TREE = MethodTypeDesc.of(CD_int, CD_float.arrayType(), CD_int);
    private static final MethodTypeDesc VALUE = MethodTypeDesc.of(CD_float, CD_float.arrayType(), CD_int);
    private static final MethodTypeDesc LEAVES = MethodTypeDesc.of(CD_void, CD_float.arrayType(), CD_int, CD_int.arrayType(), CD_int);
    private static final MethodTypeDesc SUM = MethodTypeDesc.of(CD_float, CD_float.arrayType(), CD_int, CD_float);

    private static Chunk chunk(TreeEnsemble e, int from, int to, boolean sums) {
        ClassDesc self = ClassDesc.of(BytecodeTreeWalker.class.getPackageName() + ".GeneratedTrees");
        java.util.Set<Integer> split = new java.util.LinkedHashSet<>();
        for (int t = from; t < to; t++) {
            if (e.roots[t] >= 0) {
                codeBytes(e, e.roots[t], split);
            }
        }
        byte[] bytes = ClassFile.of().build(self, cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            cb.withInterfaceSymbols(CHUNK);
            cb.withMethodBody(INIT_NAME, MTD_void, ClassFile.ACC_PUBLIC, code -> code.aload(0).invokespecial(CD_Object, INIT_NAME, MTD_void).return_());
            for (int t = from; t < to; t++) {
                int root = e.roots[t];
                cb.withMethodBody("tree" + t, TREE, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC, code -> node(code, e, root, self, split, false));
                if (sums) {
                    cb.withMethodBody("value" + t, VALUE, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC, code -> node(code, e, root, self, split, true));
                }
            }
            for (int n : split) {
                cb.withMethodBody("node" + n, TREE, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC, code -> node(code, e, n, self, split, false));
                if (sums) {
                    cb.withMethodBody("valueNode" + n, VALUE, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC, code -> node(code, e, n, self, split, true));
                }
            }
            cb.withMethodBody("sum", SUM, ClassFile.ACC_PUBLIC, code -> {
                if (!sums) {
                    code.new_(ClassDesc.of("java.lang.UnsupportedOperationException")).dup()
                            .invokespecial(ClassDesc.of("java.lang.UnsupportedOperationException"), INIT_NAME, MTD_void).athrow();
                    return;
                }
                code.fload(3);
                for (int t = from; t < to; t++) {
                    code.aload(1).iload(2).invokestatic(self, "value" + t, VALUE).fadd();
                }
                code.freturn();
            });
            cb.withMethodBody("leaves", LEAVES, ClassFile.ACC_PUBLIC, code -> {
                for (int t = from; t < to; t++) {
                    code.aload(3).iload(4).loadConstant(t - from).iadd()
                            .aload(1).iload(2).invokestatic(self, "tree" + t, TREE)
                            .iastore();
                }
                code.return_();
            });
        });
        ClassModel model = ClassFile.of().parse(bytes);
        for (MethodModel m : model.methods()) {
            int length = m.findAttribute(java.lang.classfile.Attributes.code()).map(CodeAttribute::codeLength).orElse(0);
            if (length > MAX_METHOD_BYTES) {
                return null;
            }
        }
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClass(bytes, true);
            return (Chunk) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable x) {
            throw new HotpathException(HotpathException.Category.INTERNAL, "generating the bytecode of trees " + from + " to " + (to - 1)
                    + " failed: " + x, x);
        }
    }

    /**
     * Branch n: {@code v = x[off + feature]}; NaN to the true side where the node tracks missing
     * values; the mode's comparison jumps to the false subtree when it fails (fcmpg for < and <=,
     * fcmpl otherwise, so a NaN fails every comparison but !=), the true subtree falls through.
     */
    private static void node(CodeBuilder code, TreeEnsemble e, int n, ClassDesc self, java.util.Set<Integer> split, boolean value) {
        if (n < 0) {
            if (value) {
                code.loadConstant(e.leafValue[~n]).freturn();
            } else {
                code.loadConstant(~n).ireturn();
            }
            return;
        }
        Label isTrue = code.newLabel();
        Label isFalse = code.newLabel();
        code.aload(0).iload(1).loadConstant(e.feature[n]).iadd().faload().fstore(2);
        if (e.nanTrue[n]) {
            code.fload(2).fload(2).fcmpl().ifne(isTrue);
        }
        code.fload(2).loadConstant(e.threshold[n]);
        switch (e.mode[n]) {
            case TreeEnsemble.LEQ -> code.fcmpg().ifgt(isFalse);
            case TreeEnsemble.LT -> code.fcmpg().ifge(isFalse);
            case TreeEnsemble.GTE -> code.fcmpl().iflt(isFalse);
            case TreeEnsemble.GT -> code.fcmpl().ifle(isFalse);
            case TreeEnsemble.EQ -> code.fcmpl().ifne(isFalse);
            default -> code.fcmpl().ifeq(isFalse);
        }
        code.labelBinding(isTrue);
        child(code, e, e.children[2 * n + 1], self, split, value);
        code.labelBinding(isFalse);
        child(code, e, e.children[2 * n], self, split, value);
    }

    private static void child(CodeBuilder code, TreeEnsemble e, int c, ClassDesc self, java.util.Set<Integer> split, boolean value) {
        if (c >= 0 && split.contains(c)) {
            if (value) {
                code.aload(0).iload(1).invokestatic(self, "valueNode" + c, VALUE).freturn();
            } else {
                code.aload(0).iload(1).invokestatic(self, "node" + c, TREE).ireturn();
            }
        } else {
            node(code, e, c, self, split, value);
        }
    }

    /**
     * An upper bound of the bytes of node n's code (22 per branch, 4 per leaf, 6 per call),
     * choosing the subtrees that become methods of their own: the larger child, whenever a
     * subtree would pass {@link #SPLIT_BYTES}.
     */
    private static int codeBytes(TreeEnsemble e, int n, java.util.Set<Integer> split) {
        if (n < 0) {
            return 4;
        }
        int f = codeBytes(e, e.children[2 * n], split);
        int t = codeBytes(e, e.children[2 * n + 1], split);
        int total = 22 + f + t;
        while (total > SPLIT_BYTES) {
            if (f >= t) {
                split.add(e.children[2 * n]);
                f = 6;
            } else {
                split.add(e.children[2 * n + 1]);
                t = 6;
            }
            total = 22 + f + t;
        }
        return total;
    }

    @Override
    public void leaves(float[] x, int rows, int features, int[] leaves) {
        for (int r = 0, off = 0; r < rows; r++, off += features) {
            int at = r * trees;
            for (int c = 0; c < chunks.length; c++) {
                chunks[c].leaves(x, off, leaves, at + firstTree[c]);
            }
        }
    }

    @Override
    public void sums(float[] x, int rows, int features, int[] leaves, float[] out) {
        if (!sums) {
            throw new IllegalStateException("this walker was generated without sums");
        }
        for (int r = 0, off = 0; r < rows; r++, off += features) {
            float s = 0f;
            for (Chunk c : chunks) {
                s = c.sum(x, off, s);
            }
            out[r] = s;
        }
    }

    @Override
    public String describe() {
        return "bytecode (" + chunks.length + " classes" + (sums ? ", sums fused" : "") + ")";
    }
}
