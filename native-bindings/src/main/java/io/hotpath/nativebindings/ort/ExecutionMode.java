package io.hotpath.nativebindings.ort;

/** How ONNX Runtime schedules the graph's nodes. */
public enum ExecutionMode {
    /** One node after another; parallelism inside each operator (intra-op threads). */
    SEQUENTIAL(0),
    /** Independent branches of the graph run at once (inter-op threads). */
    PARALLEL(1);

    private final int ortMode;

    ExecutionMode(int ortMode) {
        this.ortMode = ortMode;
    }

    int ortMode() {
        return ortMode;
    }
}
