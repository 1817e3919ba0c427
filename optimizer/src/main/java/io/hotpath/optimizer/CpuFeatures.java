package io.hotpath.optimizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The CPU this process runs on and the instruction-set features that change INT8 speed and
 * accuracy: AVX2, AVX-512, VNNI (AVX-512 or AVX), AMX. Read once from {@code /proc/cpuinfo};
 * elsewhere the CPU is "unknown" with no features.
 *
 * <p>Why it matters for INT8: ONNX Runtime's x86 integer GEMM multiplies uint8 activations by
 * int8 weights. With VNNI ({@code vpdpbusd}) each product is accumulated in 32 bits. Without it
 * (AVX2-only CPUs such as AMD Zen 3) the kernel uses {@code vpmaddubsw}, which adds two
 * uint8 x int8 products into a signed 16-bit lane and saturates when both are large; ONNX
 * Runtime's quantization guidance is to use 7-bit weights there ("reduce range").
 */
public record CpuFeatures(String model, List<String> flags) {
    /** The flags reported by {@link #flags()}, in this order, when the CPU has them. */
    public static final List<String> RELEVANT = List.of("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16",
            "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16");

    private static final CpuFeatures THIS = read(Path.of("/proc/cpuinfo"));

    public CpuFeatures {
        flags = List.copyOf(flags);
    }

    /** The CPU of this process (read once). */
    public static CpuFeatures detect() {
        return THIS;
    }

    /** Parses a {@code /proc/cpuinfo}-format file; a missing or unreadable file gives an unknown CPU. */
    static CpuFeatures read(Path cpuinfo) {
        String model = "unknown";
        List<String> have = List.of();
        try {
            for (String line : Files.readAllLines(cpuinfo)) {
                if (line.startsWith("model name") && model.equals("unknown")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                } else if (line.startsWith("flags") && have.isEmpty()) {
                    have = List.of(line.substring(line.indexOf(':') + 1).trim().toLowerCase(Locale.ROOT).split("\\s+"));
                }
            }
        } catch (IOException | RuntimeException e) {
            return new CpuFeatures("unknown", List.of());
        }
        List<String> flags = new ArrayList<>();
        for (String f : RELEVANT) {
            if (have.contains(f)) {
                flags.add(f);
            }
        }
        return new CpuFeatures(model, flags);
    }

    public boolean has(String flag) {
        return flags.contains(flag);
    }

    /** True when uint8 x int8 products accumulate in 32 bits (AVX-512 VNNI, AVX-VNNI or AMX int8). */
    public boolean hasInt8DotProduct() {
        return has("avx512_vnni") || has("avx_vnni") || has("amx_int8");
    }

    /** The INT8 scheme that keeps ONNX Runtime's integer kernels exact on this CPU. */
    public Int8Scheme int8Scheme() {
        return hasInt8DotProduct() ? Int8Scheme.U8S8 : Int8Scheme.U8S7;
    }

    /** {@code AMD EPYC [avx2 fma]}: the model and the relevant flags, for reports. */
    public String summary() {
        return model + " [" + (flags.isEmpty() ? "no AVX2" : String.join(" ", flags)) + "]";
    }

    /** How activations and weights are stored in a static INT8 model. */
    public enum Int8Scheme {
        /** uint8 activations with a zero point, int8 weights over [-127, 127]: CPUs with VNNI or AMX. */
        U8S8(127),
        /**
         * uint8 activations, weights over [-63, 63] (7 bits, "reduce range"): no two products can
         * saturate a 16-bit lane, so AVX2-only kernels stay exact, for one bit of weight precision.
         */
        U8S7(63);

        private final int weightMax;

        Int8Scheme(int weightMax) {
            this.weightMax = weightMax;
        }

        /** The largest weight magnitude: 127 or 63. */
        public int weightMax() {
            return weightMax;
        }

        /** {@code u8s8} or {@code u8s7}, as reports write it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses {@code u8s8}, {@code u8s7} or {@code auto} (this CPU's scheme). */
        public static Int8Scheme parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "u8s8" -> U8S8;
                case "u8s7", "reduce-range", "reduced" -> U8S7;
                case "auto" -> detect().int8Scheme();
                default -> throw io.hotpath.core.HotpathException.invalidArgument("INT8 scheme '" + s + "' is not one of u8s8, u8s7, auto");
            };
        }
    }
}
