package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.OnnxBuilder;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Models generated here for every element type Hotpath supports, at every rank from 0 (scalars)
 * to 8, run on {@link OrtCpuEngine} and on ONNX Runtime's official Java API with the same inputs:
 * the outputs must agree bit for bit, and in shape. Each model has two inputs {@code x} and
 * {@code z} whose dynamic dimensions share names (so the engine ties them), several dynamic
 * dimensions per input from rank 2 on, and two outputs: {@code same = Identity(x)} and
 * {@code calc}, an arithmetic op ONNX Runtime's CPU provider has a kernel for at that type.
 *
 * <p>ONNX Runtime's Java API cannot make uint16, uint32 or uint64 tensors; for those its copy of
 * the model takes int16/int32/int64 inputs and casts them (same width, the bits unchanged) first.
 */
class GeneratedModelsTest {
    private static final int OPSET = 21;
    /** ONNX's code for float4e2m1 (TensorProto.DataType 23). */
    private static final int FLOAT4E2M1 = 23;
    private static final int MAX_RANK = 8;
    /** Capacity of every dynamic dimension: the batch (maxBatchSize) and the others (defaultMaxDimension). */
    private static final int CAP = 3;

    @TempDir
    Path tmp;

    /**
     * The op {@code calc} runs. ONNX Runtime 1.24's CPU provider has Add for every numeric type
     * but bfloat16, where only Identity, Sign and Cast have kernels ("Could not find an
     * implementation for Add(14) node with name 'Add_0'"); bool has no arithmetic, Xor instead.
     */
    static String op(DType t) {
        return switch (t) {
            case BFLOAT16 -> "Sign";
            case BOOL -> "Xor";
            default -> "Add";
        };
    }

    static Stream<Arguments> typesAndRanks() {
        // string tensors and the 8-bit floats have their own tests (StringTensorsTest, Float8TensorsTest): strings are not
        // fixed-width bytes, and neither ONNX Runtime's CPU provider (no arithmetic) nor its Java API (no float8 tensors) takes float8 here
        return Stream.of(DType.values()).filter(t -> t != DType.STRING && !t.isFloat8())
                .flatMap(t -> IntStream.rangeClosed(0, MAX_RANK).mapToObj(r -> Arguments.of(t, r)));
    }

    /** Dimension i of the generated inputs: dynamic and named "d{i}" unless i % 3 == 2 (fixed at 2). */
    private static Object[] declaredDims(int rank) {
        Object[] dims = new Object[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = i % 3 == 2 ? (Object) 2 : "d" + i;
        }
        return dims;
    }

    /** Concrete dims: every dynamic dimension at capacity, or (small) a mix of 1s and 2s. */
    private static long[] concreteDims(int rank, boolean full) {
        long[] d = new long[rank];
        for (int i = 0; i < rank; i++) {
            d[i] = i % 3 == 2 ? 2 : full ? CAP : 1 + (i % 2);
        }
        return d;
    }

    /** The signed type of the same width whose tensors ONNX Runtime's Java API can make, or null when it can make {@code t}'s. */
    private static DType signedTwin(DType t) {
        return switch (t) {
            case UINT16 -> DType.INT16;
            case UINT32 -> DType.INT32;
            case UINT64 -> DType.INT64;
            default -> null;
        };
    }

    /** The model; {@code forJavaApi} casts signed twin inputs to {@code t} first where the Java API needs it. */
    private Path model(DType t, int rank, boolean forJavaApi) {
        int code = t.onnxCode();
        Object[] dims = declaredDims(rank);
        OnnxBuilder m = new OnnxBuilder(t + "_rank" + rank, OPSET);
        DType twin = forJavaApi ? signedTwin(t) : null;
        if (twin != null) {
            m.input("x", twin.onnxCode(), dims).input("z", twin.onnxCode(), dims)
                    .node("Cast", "x", "x_" + t, "to", (long) code).node("Cast", "z", "z_" + t, "to", (long) code);
        } else {
            m.input("x", code, dims).input("z", code, dims);
        }
        String x = twin != null ? "x_" + t : "x";
        String z = twin != null ? "z_" + t : "z";
        m.node("Identity", x, "same").output("same", code, dims);
        if (t == DType.BFLOAT16) {
            m.node("Sign", z, "calc");
        } else {
            m.node(op(t), x + "," + z, "calc");
        }
        m.output("calc", code, dims);
        return m.write(tmp.resolve(t + "_rank" + rank + (forJavaApi ? "_java" : "") + ".onnx"));
    }

    /** Random little-endian bytes for {@code count} elements of {@code t}: finite, non-NaN values; ints over their whole range. */
    static byte[] values(DType t, long count, SplittableRandom r) {
        ByteBuffer b = ByteBuffer.allocate((int) (count * t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (long k = 0; k < count; k++) {
            boolean zero = r.nextInt(8) == 0;      // zeros exercise Sign's third answer and Add's identity
            switch (t) {
                case FLOAT32 -> b.putFloat(zero ? 0f : (float) r.nextDouble(-1e4, 1e4));
                case FLOAT64 -> b.putDouble(zero ? 0 : r.nextDouble(-1e12, 1e12));
                case FLOAT16 -> b.putShort(Float.floatToFloat16(zero ? 0f : (float) r.nextDouble(-1e3, 1e3)));
                case BFLOAT16 -> b.putShort(zero ? 0 : (short) (Float.floatToRawIntBits((float) r.nextDouble(-1e6, 1e6)) >>> 16));
                case BOOL -> b.put((byte) r.nextInt(2));
                case INT8, UINT8 -> b.put((byte) r.nextInt());
                case INT16, UINT16 -> b.putShort((short) r.nextInt());
                case INT32, UINT32 -> b.putInt(r.nextInt());
                case INT64, UINT64 -> b.putLong(zero ? 0 : r.nextLong());
            }
        }
        return b.array();
    }

    private static OnnxJavaType javaType(DType t) {
        return switch (t) {
            case FLOAT32 -> OnnxJavaType.FLOAT;
            case FLOAT64 -> OnnxJavaType.DOUBLE;
            case FLOAT16 -> OnnxJavaType.FLOAT16;
            case BFLOAT16 -> OnnxJavaType.BFLOAT16;
            case INT8 -> OnnxJavaType.INT8;
            case UINT8 -> OnnxJavaType.UINT8;
            case INT16, UINT16 -> OnnxJavaType.INT16;
            case INT32, UINT32 -> OnnxJavaType.INT32;
            case INT64, UINT64 -> OnnxJavaType.INT64;
            case BOOL -> OnnxJavaType.BOOL;
            case STRING -> OnnxJavaType.STRING;
            case FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> OnnxJavaType.UINT8;     // not used: see typesAndRanks
        };
    }

    private static CpuEngineOptions options() {
        return CpuEngineOptions.builder().maxBatchSize(CAP).defaultMaxDimension(CAP).intraOpThreads(1).build();
    }

    @ParameterizedTest(name = "{0} rank {1}")
    @MethodSource("typesAndRanks")
    void identityAndArithmeticMatchOnnxRuntimesJavaApiBitForBit(DType t, int rank) throws Exception {
        Path ours = model(t, rank, false);
        Path theirs = signedTwin(t) == null ? ours : model(t, rank, true);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        SplittableRandom r = new SplittableRandom(31L * t.ordinal() + rank);
        try (OrtCpuEngine e = OrtCpuEngine.open(ours, options());
             OrtSession official = env.createSession(theirs.toString(), new OrtSession.SessionOptions())) {
            assertEquals(List.of(t, t), e.inputs().stream().map(s -> s.dtype()).toList());
            assertEquals(List.of(t, t), e.outputs().stream().map(s -> s.dtype()).toList());
            assertEquals(rank, e.inputs().get(0).shape().rank());
            assertEquals(rank == 0 ? 1 : CAP, e.maxBatchSize(), "batched exactly when the inputs have a dynamic dimension 0");
            Batch b = e.newBatch();
            for (boolean full : new boolean[] {true, false, true}) {     // capacity, smaller, capacity again: shapes change between runs
                long[] dims = concreteDims(rank, full);
                Map<String, byte[]> in = new HashMap<>();
                for (String name : List.of("x", "z")) {
                    Tensor tensor = b.input(name).reshape(dims);
                    byte[] v = values(t, tensor.elementCount(), r);
                    MemorySegment.copy(MemorySegment.ofArray(v), 0, tensor.data(), 0, v.length);
                    in.put(name, v);
                }
                e.run(b);
                Map<String, byte[]> expected = runOfficial(env, official, t, dims, in);
                for (String out : List.of("same", "calc")) {
                    Tensor o = b.output(out);
                    assertArrayEquals(dims, o.shape(), out + " shape");
                    byte[] got = o.data().asSlice(0, o.byteSize()).toArray(ValueLayout.JAVA_BYTE);
                    assertArrayEquals(expected.get(out), got, () -> t + " rank " + rank + " output '" + out + "' " + Shape.format(dims, rank)
                            + " differs from ONNX Runtime's Java API");
                }
                assertArrayEquals(in.get("x"), expected.get("same"), "Identity returns its input's bits");
                checkCalcInJava(b, t);
            }
        }
    }

    /** Runs the official session; returns each output's bytes after checking its shape. */
    private static Map<String, byte[]> runOfficial(OrtEnvironment env, OrtSession s, DType t, long[] dims, Map<String, byte[]> in) throws Exception {
        DType fed = signedTwin(t) == null ? t : signedTwin(t);
        List<OnnxTensor> tensors = new ArrayList<>();
        try {
            Map<String, OnnxTensor> feed = new HashMap<>();
            for (var entry : in.entrySet()) {
                ByteBuffer direct = ByteBuffer.allocateDirect(Math.max(1, entry.getValue().length)).order(ByteOrder.nativeOrder());
                direct.put(entry.getValue()).flip();
                OnnxTensor v = OnnxTensor.createTensor(env, direct, dims, javaType(fed));
                tensors.add(v);
                feed.put(entry.getKey(), v);
            }
            Map<String, byte[]> out = new HashMap<>();
            try (OrtSession.Result r = s.run(feed)) {
                for (String name : List.of("same", "calc")) {
                    OnnxTensor o = (OnnxTensor) r.get(name).orElseThrow();
                    assertArrayEquals(dims, o.getInfo().getShape(), "official " + name + " shape");
                    ByteBuffer bb = o.getByteBuffer();
                    byte[] bytes = new byte[bb.remaining()];
                    bb.get(bytes);
                    out.put(name, bytes);
                }
            }
            return out;
        } finally {
            tensors.forEach(OnnxTensor::close);
        }
    }

    /**
     * {@code calc} computed in Java for the types whose answer Java states exactly: integer Add
     * wraps at the type's width, float32/float64 Add is IEEE, Xor of bools, Sign of bfloat16.
     * (Float16 Add is left to the comparison above: ONNX Runtime may add in float16 or in float.)
     */
    private static void checkCalcInJava(Batch b, DType t) {
        Tensor x = b.input("x");
        Tensor z = b.input("z");
        Tensor calc = b.output("calc");
        long bits = t.byteSize() * 8L;
        long mask = bits == 64 ? -1L : (1L << bits) - 1;
        for (long k = 0; k < calc.elementCount(); k++) {
            long index = k;
            switch (t) {
                case FLOAT32 -> assertEquals(Float.floatToRawIntBits(x.getFloat(k) + z.getFloat(k)), Float.floatToRawIntBits(calc.getFloat(k)));
                case FLOAT64 -> assertEquals(Double.doubleToRawLongBits(x.getDouble(k) + z.getDouble(k)), Double.doubleToRawLongBits(calc.getDouble(k)));
                case FLOAT16 -> {
                    // compared bit for bit with ONNX Runtime's Java API above
                }
                case BFLOAT16 -> {
                    float v = z.getAsFloat(k);
                    short expected = v > 0 ? (short) 0x3F80 : v < 0 ? (short) 0xBF80 : 0;
                    assertEquals(expected, calc.getShort(k), () -> "Sign(" + v + ")");
                }
                case BOOL -> assertEquals(x.getByte(k) ^ z.getByte(k), calc.getByte(k));
                default -> assertEquals((x.getAsLong(k) + z.getAsLong(k)) & mask, calc.getAsLong(k) & mask,
                        () -> t + " element " + index + ": " + x.getAsLong(index) + " + " + z.getAsLong(index));
            }
        }
    }

    // ---- dims shared across inputs, and no dynamic dimension at all --------------------------

    @Test
    void inputsWhoseSharedDimensionsDisagreeAreRefusedNamingTheDimension() {
        try (OrtCpuEngine e = OrtCpuEngine.open(model(DType.UINT16, 4, false), options())) {
            Batch b = e.newBatch();
            b.input("x").reshape(new long[] {2, 3, 2, 1});
            b.input("z").reshape(new long[] {2, 2, 2, 1});
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(b));
            assertEquals(HotpathException.Category.INVALID_ARGUMENT, ex.category());
            assertEquals("INVALID_ARGUMENT: input 'z': shape [2,2,2,1] given, expected [d0,d1,2,d3]: dimension 1 is 2 but input 'x' "
                    + "dimension 1 is 3 (both are 'd1')", ex.getMessage());
        }
    }

    /** y = x + z over fixed [rows, 4] inputs: no dynamic dimension at all. */
    Path fixed(int rows) {
        return new OnnxBuilder("fixed" + rows, OPSET)
                .input("x", OnnxBuilder.FLOAT, rows, 4).input("z", OnnxBuilder.FLOAT, rows, 4)
                .node("Add", "x,z", "y").output("y", OnnxBuilder.FLOAT, rows, 4)
                .write(tmp.resolve("fixed" + rows + ".onnx"));
    }

    @Test
    void aModelWithNoDynamicDimensionRunsOneFixedBatchLikeTheJavaApi() throws Exception {
        try (OrtCpuEngine e = OrtCpuEngine.open(fixed(1), options())) {
            assertEquals(1, e.maxBatchSize(), "a fixed batch of 1");
            assertTrue(e.inputs().get(0).shape().isStatic());
            Batch b = e.newBatch();
            SplittableRandom r = new SplittableRandom(5);
            Map<String, byte[]> in = new HashMap<>();
            for (String name : List.of("x", "z")) {
                byte[] v = values(DType.FLOAT32, 4, r);
                MemorySegment.copy(MemorySegment.ofArray(v), 0, b.input(name).data(), 0, v.length);
                in.put(name, v);
            }
            e.run(b);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession s = env.createSession(fixed(1).toString(), new OrtSession.SessionOptions());
                 OnnxTensor x = OnnxTensor.createTensor(env, direct(in.get("x")), new long[] {1, 4}, OnnxJavaType.FLOAT);
                 OnnxTensor z = OnnxTensor.createTensor(env, direct(in.get("z")), new long[] {1, 4}, OnnxJavaType.FLOAT);
                 OrtSession.Result res = s.run(Map.of("x", x, "z", z))) {
                ByteBuffer y = ((OnnxTensor) res.get(0)).getByteBuffer();
                byte[] expected = new byte[y.remaining()];
                y.get(expected);
                assertArrayEquals(expected, b.output("y").data().asSlice(0, 16).toArray(ValueLayout.JAVA_BYTE));
            }
            HotpathException ex = assertThrows(HotpathException.class, () -> b.input("x").reshape(2, 4));
            assertTrue(ex.getMessage().contains("shape [2,4] given, expected [1,4]"), ex.getMessage());
        }
    }

    /**
     * A model with no dynamic dimension through the service: the batcher must run batches of one
     * request, each carrying the whole fixed tensors ([1,4], and [2,4] where dimension 0 is not a
     * batch of requests at all), and answer every concurrent caller with its own sum.
     */
    @ParameterizedTest(name = "fixed [{0},4]")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void theServiceRunsAFixedShapeModelInBatchesOfOne(int rows) throws Exception {
        OrtCpuEngine engine = OrtCpuEngine.open(fixed(rows), options());
        int threads = 4;
        int perThread = 150;
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxQueueDelayMicros(500)).build()) {
            AtomicInteger wrong = new AtomicInteger();
            List<String> firstWrong = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch done = new CountDownLatch(threads);
            for (int th = 0; th < threads; th++) {
                int id = th;
                Thread.ofPlatform().start(() -> {
                    try {
                        Request r = svc.newRequest();
                        for (int n = 0; n < perThread; n++) {
                            for (int k = 0; k < rows * 4; k++) {
                                r.input("x").putFloat(k, id * 1000 + n + k * 0.25f);
                                r.input("z").putFloat(k, -k * 0.5f + id);
                            }
                            int status = svc.infer(r);
                            for (int k = 0; k < rows * 4; k++) {
                                float expected = (id * 1000 + n + k * 0.25f) + (-k * 0.5f + id);
                                if (status != BatchStatus.OK || r.output("y").getFloat(k) != expected) {
                                    wrong.incrementAndGet();
                                    if (firstWrong.isEmpty()) {
                                        firstWrong.add("thread " + id + " request " + n + " element " + k + ": status " + status
                                                + (status == BatchStatus.OK ? " y=" + r.output("y").getFloat(k) + " expected " + expected
                                                : " " + r.error()));
                                    }
                                }
                            }
                        }
                    } catch (RuntimeException e) {
                        firstWrong.add(e.toString());
                        wrong.incrementAndGet();
                    } finally {
                        done.countDown();
                    }
                });
            }
            assertTrue(done.await(120, TimeUnit.SECONDS));
            assertEquals(0, wrong.get(), () -> "every caller gets its own answer; first wrong: " + firstWrong);
            assertEquals((long) threads * perThread, svc.metrics().completed());
            assertEquals(1, svc.metrics().intervalBatchSize(null).getMaxValue(), "batches of one");
            assertArrayEquals(new long[] {rows, 4}, svc.newRequest().input("x").shape(), "a request carries the whole fixed tensor");
        }
    }

    private static ByteBuffer direct(byte[] v) {
        return ByteBuffer.allocateDirect(v.length).order(ByteOrder.nativeOrder()).put(v).flip();
    }

    // ---- element types ONNX Runtime itself refuses ----------------------------------------------

    /** x -> Identity -> y, both of ONNX element type {@code code}. */
    private Path identity(int code, String file) {
        return new OnnxBuilder("identity", OPSET).input("x", code, 2).node("Identity", "x", "y").output("y", code, 2)
                .write(tmp.resolve(file));
    }

    @Test
    void typesOnnxRuntimeItselfRefusesFailAtLoadInOneLineNamingTheType() {
        Object[][] cases = {
            {identity(OnnxBuilder.COMPLEX64, "c64.onnx"), "tensor(complex64) is not currently registered or supported"},
            {identity(OnnxBuilder.INT4, "int4.onnx"), "Could not find an implementation for Identity(21)"},
            // the 4-bit float (opset 23); every other element type ONNX Runtime's CPU provider loads, Hotpath runs
            {new OnnxBuilder("to_f4", 23).input("x", OnnxBuilder.FLOAT, 2).node("Cast", "x", "y", "to", (long) FLOAT4E2M1)
                    .output("y", FLOAT4E2M1, 2).write(tmp.resolve("to_f4.onnx")), "Could not find an implementation for Cast(23)"},
        };
        for (Object[] c : cases) {
            HotpathException ex = assertThrows(HotpathException.class, () -> OrtCpuEngine.open((Path) c[0], options()));
            assertTrue(ex.getMessage().contains((String) c[1]) && !ex.getMessage().contains("\n"), ex.getMessage());
        }
    }
}
