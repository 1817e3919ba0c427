package io.hotpath.engine.jvm;

/** One batch's working memory for a dense program: a float buffer per value, the gather lists of one row's non-zero inputs, four padded output rows. */
final class DenseScratch {
    final float[][] bufs;
    final int[] idx;
    final float[] val;
    /** The padded output rows the kernels write before the real columns are copied out. */
    final float[] tmp;

    DenseScratch(float[][] bufs, int maxK, int tmpFloats) {
        this.bufs = bufs;
        this.tmp = new float[tmpFloats];
        this.idx = new int[maxK];
        this.val = new float[maxK];
    }
}
