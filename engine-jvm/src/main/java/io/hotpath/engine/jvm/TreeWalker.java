package io.hotpath.engine.jvm;

/** Finds the leaf each row reaches in each tree: the part of a tree ensemble's run that depends on the layout. */
interface TreeWalker {
    /**
     * For rows {@code 0 .. rows-1} of {@code x} (row r at {@code r * features}), writes the leaf
     * that row r reaches in tree t to {@code leaves[r * trees + t]}.
     */
    void leaves(float[] x, int rows, int features, int[] leaves);

    /**
     * For a one-target ensemble: writes to {@code out[r]} the sum of the leaf values row r reaches,
     * added in tree order in float32 starting from 0 (ONNX Runtime's order for one target).
     * {@code leaves} is working memory of {@code rows * trees} ints the walker may use.
     */
    void sums(float[] x, int rows, int features, int[] leaves, float[] out);

    /** The layout, for reports: {@code array} or {@code bytecode}. */
    String describe();

    /** Adds each row's leaf values in tree order from 0 into {@code out[r]}: {@link #sums} after {@link #leaves}. */
    static void addLeafValues(int[] leaves, int rows, int trees, float[] leafValue, float[] out) {
        for (int r = 0; r < rows; r++) {
            float s = 0f;
            for (int t = 0, at = r * trees; t < trees; t++) {
                s += leafValue[leaves[at + t]];
            }
            out[r] = s;
        }
    }
}
