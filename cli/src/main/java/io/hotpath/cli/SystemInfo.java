package io.hotpath.cli;

import java.util.List;

/** What ran a measurement: CPU model and the flags that matter, cores, JDK, OS. */
record SystemInfo(String cpuModel, List<String> cpuFlags, int cores, String jdk, String os) {
    static SystemInfo detect() {
        io.hotpath.optimizer.CpuFeatures cpu = io.hotpath.optimizer.CpuFeatures.detect();
        return new SystemInfo(cpu.model(), cpu.flags(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.vendor") + " " + Runtime.version(),
                System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }

    String summary() {
        return cpuModel + " [" + String.join(" ", cpuFlags) + "], " + cores + " cores, JDK " + jdk + ", " + os;
    }
}
