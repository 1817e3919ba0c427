package io.hotpath.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The one-way arrows between Hotpath's modules, checked on the main classes of every module (this
 * module's test classpath holds them all): a module's package may use only the packages of the
 * modules it declares, and only the native bindings touch JavaCPP ({@code org.bytedeco}). A class
 * that crosses an arrow fails the build with ArchUnit's list of the offending dependencies.
 */
class ModuleArrowsTest {
    /** Each module's package and the Hotpath packages it may use besides its own. */
    static final Map<String, List<String>> ALLOWED = Map.ofEntries(
            Map.entry("batcher", List.<String>of()),
            Map.entry("cache", List.<String>of()),
            Map.entry("onnx", List.<String>of()),
            // the built-in models: only the CLI, benchmarks, examples and tests use them, never an engine or the optimizer
            Map.entry("models", List.of("onnx")),
            Map.entry("core", List.<String>of()),
            // the serving path: finds engines through core's EngineProvider at run time, names none
            Map.entry("service", List.of("core", "batcher", "cache")),
            Map.entry("nativebindings", List.of("core", "onnx")),
            Map.entry("engine.cpu", List.of("core", "nativebindings", "onnx")),
            Map.entry("engine.tensorrt", List.of("core", "nativebindings", "engine.cpu", "onnx")),
            // no native code at all: reads the model with onnx-model's classes
            Map.entry("engine.jvm", List.of("core", "onnx")),
            // the calibrator reads engine-allocated outputs through the ONNX Runtime bindings (engine-cpu brings them)
            Map.entry("optimizer", List.of("core", "onnx", "engine.cpu", "nativebindings")),
            // the entry point: engines only through ServiceLoader, never by name
            Map.entry("embed", List.of("core", "service", "batcher", "cache", "optimizer", "onnx")),
            // the shared cache tier's store: implements the service's SharedStore, knows no model or engine
            Map.entry("redis", List.of("core", "service")),
            // the Micrometer binder: renders the service's ServiceMeters list, nothing else
            Map.entry("micrometer", List.of("service")));

    static final List<String> MODULES = List.of("batcher", "cache", "onnx", "models", "core", "service", "nativebindings", "engine.cpu", "engine.tensorrt",
            "engine.jvm", "optimizer", "embed", "redis", "micrometer", "cli");

    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        // test fixtures shared through a test jar (cache-redis's RedisServer) are tests too
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar")).importPackages("io.hotpath");
    }

    @Test
    void eachModuleUsesOnlyTheModulesItDeclares() {
        for (var e : ALLOWED.entrySet()) {
            List<String> forbidden = new ArrayList<>();
            for (String m : MODULES) {
                if (!m.equals(e.getKey()) && !e.getValue().contains(m)) {
                    forbidden.add("io.hotpath." + m + "..");
                }
            }
            noClasses().that().resideInAPackage("io.hotpath." + e.getKey() + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(forbidden.toArray(new String[0]))
                    .because("module " + e.getKey() + " may use only " + e.getValue())
                    .check(classes);
        }
    }

    /** The CPU path never reaches CUDA or TensorRT (they live in native-bindings-gpu, which only the TensorRT engine and the CLI declare). */
    @Test
    void theCpuPathNeverTouchesTheGpuBindings() {
        noClasses().that().resideInAnyPackage("io.hotpath.core..", "io.hotpath.service..", "io.hotpath.embed..", "io.hotpath.engine.cpu..", "io.hotpath.engine.jvm..", "io.hotpath.optimizer..",
                        "io.hotpath.nativebindings", "io.hotpath.nativebindings.ort..", "io.hotpath.batcher..", "io.hotpath.cache..", "io.hotpath.onnx..")
                .should().dependOnClassesThat().resideInAnyPackage("io.hotpath.nativebindings.cuda..", "io.hotpath.nativebindings.trt..")
                .because("a CPU-only application depends on engine-cpu and must not need the CUDA or TensorRT libraries")
                .check(classes);
    }

    @Test
    void onlyTheNativeBindingsTouchJavaCpp() {
        noClasses().that().resideOutsideOfPackage("io.hotpath.nativebindings..")
                .should().dependOnClassesThat().resideInAPackage("org.bytedeco..")
                .because("JavaCPP stays behind native-bindings, so the engines' and the optimizer's code never holds a raw native pointer")
                .check(classes);
    }
}
