package io.hotpath.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What ran a measurement: CPU model and the flags that matter, cores, JDK, OS. */
record SystemInfo(String cpuModel, List<String> cpuFlags, int cores, String jdk, String os) {
    private static final List<String> INTERESTING = List.of("avx2", "avx512f", "avx512_vnni", "avx512_bf16",
            "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16");

    static SystemInfo detect() {
        String model = "unknown";
        List<String> flags = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && model.equals("unknown")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                } else if (line.startsWith("flags") && flags.isEmpty()) {
                    List<String> have = List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                    for (String f : INTERESTING) {
                        if (have.contains(f)) {
                            flags.add(f);
                        }
                    }
                }
            }
        } catch (IOException e) {
            // not Linux: leave the CPU unknown
        }
        return new SystemInfo(model, List.copyOf(flags), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.vendor") + " " + Runtime.version(),
                System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }

    String summary() {
        return cpuModel + " [" + String.join(" ", cpuFlags) + "], " + cores + " cores, JDK " + jdk + ", " + os;
    }
}
