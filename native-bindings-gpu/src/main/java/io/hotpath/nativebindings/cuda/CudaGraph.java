package io.hotpath.nativebindings.cuda;

import io.hotpath.nativebindings.NativeHandle;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.global.cudart;

/** An instantiated CUDA graph: the captured launches replay with one call. */
public final class CudaGraph extends NativeHandle {
    private final CUgraph_st graph;
    private final CUgraphExec_st exec;

    private CudaGraph(CUgraph_st graph, CUgraphExec_st exec) {
        super("CUDA graph");
        this.graph = graph;
        this.exec = exec;
    }

    static CudaGraph endCapture(CudaStream stream) {
        CUgraph_st g = new CUgraph_st();
        Cuda.check(cudart.cudaStreamEndCapture(stream.handle(), g), "cudaStreamEndCapture");
        CUgraphExec_st e = new CUgraphExec_st();
        int rc = cudart.cudaGraphInstantiate(e, g, 0L);
        if (rc != 0) {
            cudart.cudaGraphDestroy(g);
            throw Cuda.error(rc, "cudaGraphInstantiate");
        }
        return new CudaGraph(g, e);
    }

    /** Replays the graph on {@code stream}; allocation-free. */
    public void launch(CudaStream stream) {
        checkOpen();
        int rc = cudart.cudaGraphLaunch(exec, stream.handle());
        if (rc != 0) {
            throw Cuda.error(rc, "cudaGraphLaunch");
        }
    }

    @Override
    protected void release() {
        cudart.cudaGraphExecDestroy(exec);
        cudart.cudaGraphDestroy(graph);
    }
}
