package io.hotpath.engine.tensorrt;

import io.hotpath.nativebindings.cuda.CudaGraph;
import io.hotpath.nativebindings.trt.TrtContext;
import java.util.ArrayList;
import java.util.List;

/**
 * One batch's execution context for one optimization profile, with the input shapes it was last
 * set to, the output shapes they gave, and the CUDA graphs captured for earlier shapes. Owns the
 * context and the graphs: {@link #close()} frees the graphs, then the context.
 */
final class ContextSlot {
    final TrtContext ctx;
    final long[][] shapes;
    final int[] ranks;
    boolean shaped;
    boolean graphsFailed;
    final long[][] outShapes;
    final List<long[]> graphKeys = new ArrayList<>();
    final List<CudaGraph> graphs = new ArrayList<>();

    ContextSlot(TrtContext ctx, int inputCount, int outputCount) {
        this.ctx = ctx;
        this.shapes = new long[inputCount][8];
        this.ranks = new int[inputCount];
        this.outShapes = new long[outputCount][];
    }

    boolean sameShapes(long[][] cur, int[] curRanks) {
        if (!shaped) {
            return false;
        }
        for (int i = 0; i < ranks.length; i++) {
            if (ranks[i] != curRanks[i]) {
                return false;
            }
            for (int d = 0; d < ranks[i]; d++) {
                if (shapes[i][d] != cur[i][d]) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The graph captured for the current shapes, or null. */
    CudaGraph graph() {
        for (int g = 0; g < graphKeys.size(); g++) {
            long[] k = graphKeys.get(g);
            int pos = 0;
            boolean same = true;
            for (int i = 0; i < ranks.length && same; i++) {
                for (int d = 0; d < ranks[i] && same; d++) {
                    same = k[pos++] == shapes[i][d];
                }
            }
            if (same) {
                return graphs.get(g);
            }
        }
        return null;
    }

    long[] graphKey() {
        int n = 0;
        for (int r : ranks) {
            n += r;
        }
        long[] k = new long[n];
        int pos = 0;
        for (int i = 0; i < ranks.length; i++) {
            for (int d = 0; d < ranks[i]; d++) {
                k[pos++] = shapes[i][d];
            }
        }
        return k;
    }

    void close() {
        for (CudaGraph g : graphs) {
            g.close();
        }
        ctx.close();
    }
}
