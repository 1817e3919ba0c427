package io.hotpath.service;

import io.hotpath.core.EngineProvider;
import io.hotpath.core.HotpathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Which engine runs a model. The engines are found on the class path at run time
 * ({@link ServiceLoader} over {@link EngineProvider}), so this module names none of them and an
 * application that carries only {@code hotpath-engine-cpu} loads no GPU class.
 */
public enum EngineChoice {
    /** The most preferred engine that is usable here for this model (TensorRT, else the CPU), with the reason. */
    BEST(null),
    /** ONNX Runtime on the CPU ({@code hotpath-engine-cpu}). */
    CPU("cpu"),
    /** TensorRT on an NVIDIA GPU ({@code hotpath-engine-tensorrt}), or an UNSUPPORTED error that says what is missing. */
    TENSORRT("tensorrt");

    private final String kind;

    EngineChoice(String kind) {
        this.kind = kind;
    }

    /** The engine kind this choice names ({@code cpu}, {@code tensorrt}), or null for {@link #BEST}. */
    public String kind() {
        return kind;
    }

    /** Parses {@code best}, {@code cpu} or {@code tensorrt} (any case); anything else is an INVALID_ARGUMENT naming the choices. */
    public static EngineChoice parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw HotpathException.invalidArgument("unknown engine '" + s + "'; use best, cpu or tensorrt");
        }
    }

    /**
     * The chosen provider, why, and one line for every engine considered (usable or not, and why):
     * what {@code build()} reports.
     */
    public record Selection(EngineProvider provider, String reason, List<String> considered) {
        public Selection {
            considered = List.copyOf(considered);
        }
    }

    /** Chooses among the providers on this class's class path. */
    public Selection select(Path model) {
        List<EngineProvider> found = new ArrayList<>();
        ServiceLoader.load(EngineProvider.class, EngineChoice.class.getClassLoader()).forEach(found::add);
        return select(model, found);
    }

    /**
     * The rule itself, over the given providers: for {@link #BEST} the most preferred usable one;
     * for a named kind that kind, which must be present and usable.
     */
    public Selection select(Path model, List<EngineProvider> providers) {
        List<EngineProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparingInt(EngineProvider::preference).reversed().thenComparing(EngineProvider::kind));
        List<String> considered = new ArrayList<>();
        EngineProvider chosen = null;
        String reason = null;
        for (EngineProvider p : sorted) {
            if (kind != null && !kind.equals(p.kind())) {
                continue;
            }
            EngineProvider.Availability a = p.availability(model);
            considered.add(p.kind() + ": " + (a.usable() ? "usable, " : "not usable, ") + a.reason());
            if (a.usable() && chosen == null) {
                chosen = p;
                reason = a.reason() + (kind == null ? "" : "; asked for");
            } else if (!a.usable() && kind != null) {
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "engine " + kind + " was asked for but is not usable here: "
                        + a.reason());
            }
        }
        if (chosen == null) {
            String have = sorted.isEmpty() ? "none" : String.join(", ", sorted.stream().map(EngineProvider::kind).toList());
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, kind == null
                    ? "no usable engine on the class path (engines found: " + have + "); add io.hotpath:hotpath-engine-cpu"
                    : "engine " + kind + " is not on the class path (engines found: " + have + "); add io.hotpath:hotpath-engine-" + kind);
        }
        return new Selection(chosen, reason, considered);
    }
}
