package io.hotpath.nativebindings.ort;

/** ONNX Runtime's graph optimization levels (constant folding, fusions, layout changes). */
public enum GraphOptimization {
    /** No graph rewriting: the model runs as written. */
    NONE(0),
    /** Semantics-preserving rewrites: constant folding, redundant node removal. */
    BASIC(1),
    /** Adds complex fusions (GELU, LayerNorm, attention, MatMul+Add ...). */
    EXTENDED(2),
    /** Adds layout optimizations; ONNX Runtime's default. */
    ALL(99);

    private final int ortLevel;

    GraphOptimization(int ortLevel) {
        this.ortLevel = ortLevel;
    }

    int ortLevel() {
        return ortLevel;
    }

    /** Parses {@code none|basic|extended|all} (case-insensitive). */
    public static GraphOptimization parse(String s) {
        for (GraphOptimization g : values()) {
            if (g.name().equalsIgnoreCase(s)) {
                return g;
            }
        }
        throw io.hotpath.core.HotpathException.invalidArgument("unknown graph optimization level '" + s + "'; use none, basic, extended or all");
    }
}
