package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.models.BuiltinModels;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuFeaturesTest {
    @TempDir
    Path tmp;

    private Path cpuinfo(String model, String flags) throws Exception {
        Path f = tmp.resolve(model.replace(' ', '_'));
        Files.writeString(f, "processor\t: 0\nvendor_id\t: x\nmodel name\t: " + model + "\nflags\t\t: " + flags + "\n\nprocessor\t: 1\n"
                + "model name\t: " + model + "\nflags\t\t: " + flags + "\n");
        return f;
    }

    @Test
    void anAvx2OnlyCpuGetsSevenBitWeightsAndAVnniCpuEightBit() throws Exception {
        CpuFeatures amd = CpuFeatures.read(cpuinfo("AMD EPYC", "fpu sse sse2 avx fma avx2 bmi2"));
        assertEquals(List.of("avx2", "fma"), amd.flags());
        assertFalse(amd.hasInt8DotProduct());
        assertEquals(CpuFeatures.Int8Scheme.U8S7, amd.int8Scheme());
        assertEquals("AMD EPYC [avx2 fma]", amd.summary());

        CpuFeatures spr = CpuFeatures.read(cpuinfo("Intel(R) Xeon(R) Platinum 8481C",
                "avx2 fma avx512f avx512_vnni avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8"));
        assertTrue(spr.hasInt8DotProduct());
        assertEquals(CpuFeatures.Int8Scheme.U8S8, spr.int8Scheme());
        assertTrue(spr.flags().containsAll(List.of("avx512f", "avx512_vnni", "amx_int8")));

        // AVX-VNNI without AVX-512 (client cores) also accumulates in 32 bits
        assertEquals(CpuFeatures.Int8Scheme.U8S8, CpuFeatures.read(cpuinfo("Intel Core", "avx2 fma avx_vnni")).int8Scheme());
        CpuFeatures none = CpuFeatures.read(tmp.resolve("missing"));
        assertEquals("unknown", none.model());
        assertEquals(CpuFeatures.Int8Scheme.U8S7, none.int8Scheme(), "an unknown CPU gets the scheme that is exact everywhere");
    }

    @Test
    void thisMachinesSchemeFollowsItsFlags() {
        CpuFeatures here = CpuFeatures.detect();
        assertEquals(here.hasInt8DotProduct() ? CpuFeatures.Int8Scheme.U8S8 : CpuFeatures.Int8Scheme.U8S7, here.int8Scheme());
        assertEquals(here.int8Scheme(), CpuFeatures.Int8Scheme.parse("auto"));
        assertEquals(CpuFeatures.Int8Scheme.U8S7, CpuFeatures.Int8Scheme.parse("U8S7"));
        HotpathException e = assertThrows(HotpathException.class, () -> CpuFeatures.Int8Scheme.parse("s4"));
        assertTrue(e.getMessage().contains("'s4'"), e.getMessage());
    }

    @Test
    void sevenBitWeightsStayWithinSixtyThreeAndEightBitUseTheFullRange() throws Exception {
        OnnxModel m = OnnxModel.of(BuiltinModels.mlp(1));
        SplittableRandom r = new SplittableRandom(3);
        List<List<Calibrator.Feed>> samples = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            java.nio.ByteBuffer f = java.nio.ByteBuffer.allocate(64 * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < 64; k++) {
                f.putFloat((float) r.nextDouble(-1, 1));
            }
            samples.add(List.of(new Calibrator.Feed("features", 1, new long[] {1, 64}, f.array())));
        }
        for (CpuFeatures.Int8Scheme scheme : CpuFeatures.Int8Scheme.values()) {
            QdqQuantizer.Options o = QdqQuantizer.Options.defaults(CalibrationStats.Method.MINMAX).withScheme(scheme);
            CalibrationStats st = Calibrator.collect(m, QdqQuantizer.activationsToCalibrate(m, o), samples);
            int largest = 0;
            int weights = 0;
            for (TensorProto t : QdqQuantizer.quantize(m, st, o).model().getGraph().getInitializerList()) {
                if (t.getName().endsWith("_quantized")) {
                    weights++;
                    for (byte b : t.getRawData().toByteArray()) {
                        largest = Math.max(largest, Math.abs(b));
                    }
                }
            }
            assertTrue(weights > 0);
            // every channel's largest weight maps to the scheme's largest magnitude
            assertEquals(scheme.weightMax(), largest, scheme.label());
        }
    }
}
