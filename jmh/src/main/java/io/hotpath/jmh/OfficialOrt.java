package io.hotpath.jmh;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Microsoft's ONNX Runtime Java API ({@code com.microsoft.onnxruntime:onnxruntime}), the peer of
 * every CPU-engine figure, loaded from its own jar in its own class loader: the JavaCPP ONNX
 * Runtime jar bundles an older copy of the same {@code ai.onnxruntime} package, so the two cannot
 * share a class path. Calls go through method handles resolved once.
 *
 * <p>Used as its documentation shows: a session, input tensors made once over direct buffers,
 * then per inference {@code session.run(inputs)}, read the output, close the result.
 */
final class OfficialOrt implements AutoCloseable {
    static final String JAR_PROPERTY = "hotpath.officialOrtJar";

    private final URLClassLoader loader;
    private final Object session;
    private final Map<String, Object> inputs = new LinkedHashMap<>();
    private final Map<String, Object> pinnedOutputs = new LinkedHashMap<>();
    private final MethodHandle run;
    private final MethodHandle runPinned;
    private final MethodHandle resultGet;
    private final MethodHandle resultClose;
    private final MethodHandle floatBuffer;
    private final MethodHandle createFloat;
    private final MethodHandle createLong;
    private final MethodHandle tensorClose;
    private final Object env;
    private final String version;

    OfficialOrt(Path model, int intraOpThreads) throws Throwable {
        String jar = System.getProperty(JAR_PROPERTY);
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("the official ONNX Runtime jar is not at -D" + JAR_PROPERTY + "=" + jar
                    + "; build the jmh module (./mvnw -B package -pl jmh -am -DskipTests) and run target/benchmarks.jar");
        }
        loader = new URLClassLoader(new URL[] {Path.of(jar).toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        Class<?> envC = loader.loadClass("ai.onnxruntime.OrtEnvironment");
        Class<?> sessionC = loader.loadClass("ai.onnxruntime.OrtSession");
        Class<?> optionsC = loader.loadClass("ai.onnxruntime.OrtSession$SessionOptions");
        Class<?> levelC = loader.loadClass("ai.onnxruntime.OrtSession$SessionOptions$OptLevel");
        Class<?> resultC = loader.loadClass("ai.onnxruntime.OrtSession$Result");
        Class<?> tensorC = loader.loadClass("ai.onnxruntime.OnnxTensor");
        Class<?> valueC = loader.loadClass("ai.onnxruntime.OnnxValue");

        env = envC.getMethod("getEnvironment").invoke(null);
        version = String.valueOf(envC.getMethod("getVersion").invoke(env));
        Object options = optionsC.getConstructor().newInstance();
        @SuppressWarnings({"unchecked", "rawtypes"})
        Object all = Enum.valueOf((Class) levelC, "ALL_OPT");
        optionsC.getMethod("setOptimizationLevel", levelC).invoke(options, all);
        optionsC.getMethod("setIntraOpNumThreads", int.class).invoke(options, intraOpThreads);
        session = envC.getMethod("createSession", String.class, optionsC).invoke(env, model.toString(), options);

        Method runM = sessionC.getMethod("run", Map.class);
        run = lookup.unreflect(runM).bindTo(session).asType(MethodType.methodType(Object.class, Map.class));
        Method runPinnedM = sessionC.getMethod("run", Map.class, Map.class);
        runPinned = lookup.unreflect(runPinnedM).bindTo(session).asType(MethodType.methodType(Object.class, Map.class, Map.class));
        resultGet = lookup.unreflect(resultC.getMethod("get", int.class)).asType(MethodType.methodType(Object.class, Object.class, int.class));
        resultClose = lookup.unreflect(resultC.getMethod("close")).asType(MethodType.methodType(void.class, Object.class));
        floatBuffer = lookup.unreflect(tensorC.getMethod("getFloatBuffer")).asType(MethodType.methodType(FloatBuffer.class, Object.class));
        createFloat = lookup.unreflect(tensorC.getMethod("createTensor", envC, FloatBuffer.class, long[].class));
        createLong = lookup.unreflect(tensorC.getMethod("createTensor", envC, LongBuffer.class, long[].class));
        tensorClose = lookup.unreflect(valueC.getMethod("close")).asType(MethodType.methodType(void.class, Object.class));
    }

    /** The peer's own version string (its {@code OrtEnvironment.getVersion()}). */
    String version() {
        return version;
    }

    /** An input tensor over a direct buffer holding {@code data}, made once. */
    void floatInput(String name, float[] data, long... shape) throws Throwable {
        FloatBuffer b = direct(data.length * 4).asFloatBuffer().put(data);
        inputs.put(name, createFloat.invoke(env, b.flip(), shape));
    }

    void longInput(String name, long[] data, long... shape) throws Throwable {
        LongBuffer b = direct(data.length * 8).asLongBuffer().put(data);
        inputs.put(name, createLong.invoke(env, (LongBuffer) ((Buffer) b).flip(), shape));
    }

    /** A preallocated output (the API's "pinned outputs", its allocation-light mode). */
    FloatBuffer pinnedFloatOutput(String name, long... shape) throws Throwable {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        FloatBuffer b = direct((int) n * 4).asFloatBuffer();
        pinnedOutputs.put(name, createFloat.invoke(env, b, shape));
        return b;
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    /** One inference as the API's documentation shows it: run, read output 0, close the result. */
    float runAndRead() throws Throwable {
        Object result = run.invokeExact((Map<?, ?>) inputs);
        try {
            FloatBuffer out = (FloatBuffer) floatBuffer.invokeExact(resultGet.invokeExact(result, 0));
            return out.get(0);
        } finally {
            resultClose.invokeExact(result);
        }
    }

    /** One inference into the pinned outputs; the caller reads its buffer. */
    void runPinned() throws Throwable {
        Object result = runPinned.invokeExact((Map<?, ?>) inputs, (Map<?, ?>) pinnedOutputs);
        resultClose.invokeExact(result);
    }

    @Override
    public void close() throws Exception {
        for (Object t : inputs.values()) {
            closeTensor(t);
        }
        for (Object t : pinnedOutputs.values()) {
            closeTensor(t);
        }
        ((AutoCloseable) session).close();
        loader.close();
    }

    private void closeTensor(Object t) {
        try {
            tensorClose.invokeExact(t);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
