package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.core.TensorSpec;
import java.util.List;

/** A real engine with something added to its runs (a stall, a known cost): everything else is the real engine's. */
abstract class DelegatingEngine implements Engine {
    final Engine real;

    DelegatingEngine(Engine real) {
        this.real = real;
    }

    @Override
    public void run(Batch batch) {
        real.run(batch);
    }

    @Override
    public List<TensorSpec> inputs() {
        return real.inputs();
    }

    @Override
    public List<TensorSpec> outputs() {
        return real.outputs();
    }

    @Override
    public int maxBatchSize() {
        return real.maxBatchSize();
    }

    @Override
    public Batch newBatch() {
        return real.newBatch();
    }

    @Override
    public long modelIdentity() {
        return real.modelIdentity();
    }

    @Override
    public void close() {
        real.close();
    }
}
