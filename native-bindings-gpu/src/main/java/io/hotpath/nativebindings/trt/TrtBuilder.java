package io.hotpath.nativebindings.trt;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.SegmentPointers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.IInt8Calibrator;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

/** Parses an ONNX model and builds a serialized TensorRT plan. */
public final class TrtBuilder {
    /** A built plan and the timing cache after the build (to save and reuse). */
    public record Result(byte[] plan, byte[] timingCache, long buildNanos, List<String> warnings) {
    }

    private TrtBuilder() {
    }

    /** Names, ranks and dynamic dimensions of the model's inputs, as the ONNX parser sees them: {@code [name -> dims]} with -1 for dynamic. */
    public record ParsedInput(String name, long[] dims, int trtType) {
    }

    /** What parsing found: the inputs and whether the model carries explicit quantization (Q/DQ nodes). */
    public record ParsedModel(List<ParsedInput> inputs, boolean explicitQuantization) {
    }

    /** Parses {@code onnx} and reports its inputs without building (used to derive default profiles and cache keys). */
    public static ParsedModel inspect(Path onnx) {
        TrtLog.Logger logger = TensorRt.logger();
        long mark = TrtLog.mark();
        IBuilder builder = nvinfer.createInferBuilder(logger);
        if (builder == null || builder.isNull()) {
            throw new HotpathException(Category.ENGINE_FAILURE, "createInferBuilder failed: " + TrtLog.errorsSince(mark));
        }
        INetworkDefinition network = builder.createNetworkV2(0);
        parse(onnx, network, logger, mark);
        List<ParsedInput> out = new ArrayList<>();
        for (int i = 0; i < network.getNbInputs(); i++) {
            var t = network.getInput(i);
            out.add(new ParsedInput(t.getName(), dims(t.getDimensions()), t.getType().value));
        }
        boolean qdq = false;
        for (int i = 0; i < network.getNbLayers() && !qdq; i++) {
            var type = network.getLayer(i).getType();
            // JavaCPP returns enum objects that carry the native value: compare values, not identities
            qdq = type.value == nvinfer.LayerType.kQUANTIZE.value || type.value == nvinfer.LayerType.kDEQUANTIZE.value;
        }
        return new ParsedModel(List.copyOf(out), qdq);
    }

    /** Builds a plan; throws INVALID_MODEL when the parser rejects the model, ENGINE_FAILURE when the build fails. */
    public static Result build(Path onnx, TrtBuildSpec spec) {
        TrtLog.Logger logger = TensorRt.logger();
        long mark = TrtLog.mark();
        long start = System.nanoTime();
        IBuilder builder = nvinfer.createInferBuilder(logger);
        if (builder == null || builder.isNull()) {
            throw new HotpathException(Category.ENGINE_FAILURE, "createInferBuilder failed: " + TrtLog.errorsSince(mark));
        }
        int flags = spec.stronglyTyped() ? 1 << nvinfer.NetworkDefinitionCreationFlag.kSTRONGLY_TYPED.value : 0;
        INetworkDefinition network = builder.createNetworkV2(flags);
        parse(onnx, network, logger, mark);
        IBuilderConfig config = builder.createBuilderConfig();
        config.setMemoryPoolLimit(nvinfer.MemoryPoolType.kWORKSPACE, spec.workspaceBytes());
        config.setBuilderOptimizationLevel(spec.optimizationLevel());
        config.setProfilingVerbosity(nvinfer.ProfilingVerbosity.kDETAILED);
        if (!spec.stronglyTyped()) {
            if (spec.tf32()) {
                config.setFlag(nvinfer.BuilderFlag.kTF32);
            } else {
                config.clearFlag(nvinfer.BuilderFlag.kTF32);
            }
            if (spec.fp16()) {
                config.setFlag(nvinfer.BuilderFlag.kFP16);
            }
            if (spec.int8()) {
                config.setFlag(nvinfer.BuilderFlag.kINT8);
            }
        }
        List<IOptimizationProfile> profiles = new ArrayList<>();
        for (TrtBuildSpec.Profile p : spec.profiles()) {
            IOptimizationProfile profile = builder.createOptimizationProfile();
            for (TrtBuildSpec.InputRange r : p.inputs()) {
                boolean ok = profile.setDimensions(r.name(), nvinfer.OptProfileSelector.kMIN, dims64(r.min()))
                        && profile.setDimensions(r.name(), nvinfer.OptProfileSelector.kOPT, dims64(r.opt()))
                        && profile.setDimensions(r.name(), nvinfer.OptProfileSelector.kMAX, dims64(r.max()));
                if (!ok) {
                    throw HotpathException.invalidArgument("optimization profile for input '" + r.name() + "' rejected: "
                            + TrtLog.errorsSince(mark));
                }
            }
            if (config.addOptimizationProfile(profile) < 0) {
                throw HotpathException.invalidArgument("optimization profile " + profiles.size() + " rejected: " + TrtLog.errorsSince(mark));
            }
            profiles.add(profile);
        }
        IInt8Calibrator calibrator = null;
        if (spec.int8() && !spec.stronglyTyped() && spec.calibrator() != null) {
            calibrator = Int8Calibrators.create(spec.calibrationAlgorithm(), spec.calibrator());
            config.setInt8Calibrator(calibrator);
            if (!profiles.isEmpty() && !config.setCalibrationProfile(profiles.get(spec.calibrationProfile()))) {
                throw HotpathException.invalidArgument("calibration profile rejected: " + TrtLog.errorsSince(mark));
            }
        }
        ITimingCache timingCache;
        if (spec.timingCache() != null && spec.timingCache().length > 0) {
            BytePointer bytes = new BytePointer(spec.timingCache().length);
            bytes.put(spec.timingCache());
            timingCache = config.createTimingCache(bytes, spec.timingCache().length);
        } else {
            timingCache = config.createTimingCache(null, 0);
        }
        if (timingCache == null || timingCache.isNull() || !config.setTimingCache(timingCache, false)) {
            // a corrupt timing cache only costs build time: start from an empty one
            timingCache = config.createTimingCache(null, 0);
            config.setTimingCache(timingCache, false);
        }
        IHostMemory plan = builder.buildSerializedNetwork(network, config);
        Throwable calFailure = calibrator == null ? null : Int8Calibrators.failureOf(calibrator);
        if (calFailure != null) {
            throw new HotpathException(Category.ENGINE_FAILURE, "INT8 calibration failed in the Java calibrator: " + calFailure, calFailure);
        }
        if (plan == null || plan.isNull() || plan.size() == 0) {
            throw new HotpathException(Category.ENGINE_FAILURE, "TensorRT could not build " + onnx.getFileName() + ": " + TrtLog.errorsSince(mark));
        }
        byte[] planBytes = bytes(plan);
        byte[] cacheBytes = null;
        IHostMemory tc = timingCache.serialize();
        if (tc != null && !tc.isNull()) {
            cacheBytes = bytes(tc);
        }
        return new Result(planBytes, cacheBytes, System.nanoTime() - start, TrtLog.since(mark));
    }

    private static void parse(Path onnx, INetworkDefinition network, TrtLog.Logger logger, long mark) {
        if (!Files.isRegularFile(onnx)) {
            throw new HotpathException(Category.NOT_FOUND, "model file not found: " + onnx);
        }
        IParser parser = nvonnxparser.createParser(network, logger);
        if (!parser.parseFromFile(onnx.toAbsolutePath().toString(), org.bytedeco.tensorrt.nvinfer.ILogger.Severity.kWARNING.value)) {
            StringBuilder why = new StringBuilder();
            for (int i = 0; i < parser.getNbErrors(); i++) {
                IParserError e = parser.getError(i);
                if (i > 0) {
                    why.append("; ");
                }
                why.append(e.code()).append(" at node ").append(e.node());
                String op = e.nodeOperator();
                if (op != null && !op.isEmpty()) {
                    why.append(" (").append(op).append(' ').append(e.nodeName()).append(')');
                }
                why.append(": ").append(e.desc());
            }
            if (why.isEmpty()) {
                why.append(TrtLog.errorsSince(mark));
            }
            throw new HotpathException(Category.INVALID_MODEL, "TensorRT's ONNX parser rejected " + onnx + ": " + why);
        }
    }

    static Dims64 dims64(long[] d) {
        Dims64 dims = new Dims64();
        dims.nbDims(d.length);
        for (int i = 0; i < d.length; i++) {
            dims.d(i, d[i]);
        }
        return dims;
    }

    static long[] dims(Dims64 d) {
        long[] out = new long[Math.max(0, d.nbDims())];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.d(i);
        }
        return out;
    }

    static byte[] bytes(IHostMemory m) {
        long n = m.size();
        if (n > Integer.MAX_VALUE - 16) {
            throw new HotpathException(Category.UNSUPPORTED, "plan of " + n + " bytes is larger than 2 GiB");
        }
        byte[] out = new byte[(int) n];
        MemorySegment.copy(SegmentPointers.segment(m.data(), n), ValueLayout.JAVA_BYTE, 0, out, 0, out.length);
        return out;
    }
}
