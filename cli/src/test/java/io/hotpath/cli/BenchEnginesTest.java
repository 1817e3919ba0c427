package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** bench --engine jvm and best: the JVM engine runs small models and best picks it, saying why; it refuses a model it cannot compile. */
class BenchEnginesTest {
    @Test
    void jvmRunsTheMlpAndBestChoosesIt() {
        CliRun.Result jvm = CliRun.run("bench", "--model", "mlp", "--engine", "jvm", "--batch", "1,4", "--iterations", "200", "--warmup", "50");
        assertEquals(0, jvm.code(), jvm.err());
        assertTrue(jvm.out().contains("engine  jvm model=") && jvm.out().contains("chosen  the JVM engine: asked for"), jvm.out());
        CliRun.Result best = CliRun.run("bench", "--model", "mlp", "--engine", "best", "--iterations", "200", "--warmup", "50");
        assertEquals(0, best.code(), best.err());
        assertTrue(best.out().contains("engine  jvm model=") && best.out().contains("under the small-model threshold"), best.out());
        CliRun.Result service = CliRun.run("bench", "--model", "mlp", "--engine", "jvm", "--concurrency", "2", "--max-batch", "4",
                "--iterations", "200", "--warmup", "50");
        assertEquals(0, service.code(), service.err());
    }

    @Test
    void bestFallsBackForAModelTheJvmEngineDoesNotCompileAndJvmRefusesIt() {
        CliRun.Result best = CliRun.run("bench", "--model", "cnn", "--engine", "best", "--iterations", "20", "--warmup", "5");
        assertEquals(0, best.code(), best.err());
        assertTrue(best.out().contains("not the JVM engine: the JVM engine does not compile node 'Conv_0' (Conv)"), best.out());
        CliRun.Result jvm = CliRun.run("bench", "--model", "cnn", "--engine", "jvm", "--iterations", "20", "--warmup", "5");
        assertEquals(2, jvm.code(), jvm.out() + jvm.err());
        assertTrue(jvm.err().strip().startsWith("hotpath: ") && jvm.err().contains("(Conv)") && !jvm.err().contains("\tat "), jvm.err());
    }
}
