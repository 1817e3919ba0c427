package io.hotpath.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a stateful model (recurrent state in, state out, as voice-activity and streaming models
 * have) step after step, each step's state outputs becoming the next step's state inputs without
 * a copy.
 *
 * <p>How: two batches over crossed memory. Batch A reads state input {@code h} from buffer 1 and
 * writes state output {@code hn} into buffer 2; batch B reads {@code h} from buffer 2 and writes
 * {@code hn} into buffer 1. Steps alternate A, B, A, ... Every other tensor (the frame, a sample
 * rate, the non-state outputs) is the same {@link Tensor} in both batches, so the caller fills
 * {@link #input} once per step and reads {@link #output} after it, as with one batch. Both batches
 * are bound once: a step allocates nothing and copies nothing.
 *
 * <pre>
 *   step 1 (A):  h = buf1 --run--> hn = buf2
 *   step 2 (B):  h = buf2 --run--> hn = buf1
 *   step 3 (A):  h = buf1 ...
 * </pre>
 *
 * <p>State pairs are named explicitly ({@link #of(Engine, Map)}, output name to input name) or found
 * by {@link #of(Engine)}: an output named like an input plus {@code n} or {@code N}
 * ({@code hn -> h}, {@code cn -> c}, {@code stateN -> state}), or plus {@code _out}, {@code out}
 * or {@code _new} when the input's name says state ({@code state}, {@code hidden}, {@code cache},
 * {@code memory}, {@code h}, {@code c}: {@code state_out -> state}; {@code noise_out} is an echo,
 * not state), with the same element type and rank. A state output must be preallocated (its shape follows from the
 * inputs), not engine-allocated. Not thread-safe: one caller steps a loop.
 */
public final class StateLoop {
    /** Suffixes that make an output the next value of the input named without them. */
    static final List<String> STATE_SUFFIXES = List.of("n", "N", "_out", "out", "_new");

    private final Engine engine;
    private final Batch[] batches = new Batch[2];
    /** For each pair: model input name and output name. */
    private final String[] stateInputs;
    private final String[] stateOutputs;
    private final Map<String, String> pairs;
    private final long[] dims = new long[Shape.MAX_RANK];
    private int next;
    private long steps;

    private StateLoop(Engine engine, Map<String, String> outputToInput) {
        this.engine = engine;
        if (outputToInput.isEmpty()) {
            throw HotpathException.invalidArgument("no state pairs: the model's outputs " + names(engine.outputs())
                    + " include none named like an input " + names(engine.inputs()) + " plus " + STATE_SUFFIXES
                    + "; name them (output=input)");
        }
        this.pairs = Collections.unmodifiableMap(new LinkedHashMap<>(outputToInput));
        this.stateInputs = new String[pairs.size()];
        this.stateOutputs = new String[pairs.size()];
        int k = 0;
        for (var e : pairs.entrySet()) {
            check(e.getKey(), e.getValue());
            stateOutputs[k] = e.getKey();
            stateInputs[k++] = e.getValue();
        }
        Batch a = engine.newBatch();
        List<Tensor> in = new ArrayList<>();
        for (int i = 0; i < a.inputCount(); i++) {
            Tensor t = a.input(i);
            int p = indexOf(stateInputs, t.name());
            // the other batch reads this state from the memory batch A writes the paired output into
            in.add(p < 0 ? t : new Tensor(t.spec(), a.output(stateOutputs[p]).data()));
        }
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < a.outputCount(); i++) {
            Tensor t = a.output(i);
            int p = indexOf(stateOutputs, t.name());
            out.add(p < 0 ? t : new Tensor(t.spec(), a.input(stateInputs[p]).data()));
        }
        batches[0] = a;
        batches[1] = Batch.of(in, out);
    }

    /** A loop over {@code engine} with the state pairs found by name (see the class comment). */
    public static StateLoop of(Engine engine) {
        return new StateLoop(engine, findPairs(engine));
    }

    /** A loop over {@code engine} with state pairs given as output name to input name ({@code hn -> h}). */
    public static StateLoop of(Engine engine, Map<String, String> outputToInput) {
        return new StateLoop(engine, outputToInput);
    }

    /** The state pairs an engine's names suggest, output name to input name; empty when none. */
    public static Map<String, String> findPairs(Engine engine) {
        Map<String, String> found = new LinkedHashMap<>();
        for (int o = 0; o < engine.outputs().size(); o++) {
            TensorSpec out = engine.outputs().get(o);
            for (String suffix : STATE_SUFFIXES) {
                if (out.name().length() > suffix.length() && out.name().endsWith(suffix)) {
                    String base = out.name().substring(0, out.name().length() - suffix.length());
                    if (!suffix.equalsIgnoreCase("n") && !namesState(base)) {
                        continue;       // x -> x_out alone is an echo, not state: the longer suffixes need a state-like name
                    }
                    for (TensorSpec in : engine.inputs()) {
                        if (in.name().equals(base) && in.dtype() == out.dtype() && in.shape().rank() == out.shape().rank()
                                && !engine.outputEngineAllocated(o) && !found.containsValue(base)) {
                            found.put(out.name(), base);
                        }
                    }
                }
            }
        }
        return found;
    }

    private static boolean namesState(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.contains("state") || n.contains("hidden") || n.contains("cache") || n.contains("memory") || n.equals("h") || n.equals("c");
    }

    private void check(String output, String input) {
        int o = indexOfSpec(engine.outputs(), output);
        int i = indexOfSpec(engine.inputs(), input);
        if (o < 0 || i < 0) {
            throw HotpathException.invalidArgument("state pair " + output + "=" + input + ": " + (o < 0 ? "no output '" + output + "' among "
                    + names(engine.outputs()) : "no input '" + input + "' among " + names(engine.inputs())));
        }
        TensorSpec os = engine.outputs().get(o);
        TensorSpec is = engine.inputs().get(i);
        if (os.dtype() != is.dtype() || os.shape().rank() != is.shape().rank()) {
            throw HotpathException.invalidArgument("state pair " + output + "=" + input + ": output " + os + " cannot be fed to input " + is
                    + " (element type and rank must match)");
        }
        if (engine.outputEngineAllocated(o)) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "state pair " + output + "=" + input + ": output '" + output
                    + "' has a size known only after the run, so it cannot be written into the next step's input memory");
        }
    }

    /** The state pairs, output name to input name. */
    public Map<String, String> pairs() {
        return pairs;
    }

    /** The batch the next {@link #step()} runs: fill its inputs. The non-state tensors are the same every step. */
    public Batch batch() {
        return batches[next];
    }

    /** Input {@code name} of the next step (a state input holds the state the next step reads). */
    public Tensor input(String name) {
        return batches[next].input(name);
    }

    /** Output {@code name} of the last step. */
    public Tensor output(String name) {
        return batches[next ^ 1].output(name);
    }

    /** Steps run since the loop was made. */
    public long steps() {
        return steps;
    }

    /**
     * Runs one step, then points the next step's state inputs at this step's state outputs (same
     * memory, shapes copied). Allocation-free once both batches have run with these shapes.
     */
    public void step() {
        Batch b = batches[next];
        engine.run(b);
        steps++;
        next ^= 1;
        Batch n = batches[next];
        for (int k = 0; k < stateInputs.length; k++) {
            int rank = b.output(stateOutputs[k]).shapeInto(dims);
            Tensor in = n.input(stateInputs[k]);
            switch (rank) {
                case 1 -> in.reshape(dims[0]);
                case 2 -> in.reshape(dims[0], dims[1]);
                case 3 -> in.reshape(dims[0], dims[1], dims[2]);
                default -> reshapeIfChanged(in, rank);
            }
        }
    }

    private void reshapeIfChanged(Tensor in, int rank) {
        for (int d = 0; d < rank; d++) {
            if (in.dim(d) != dims[d]) {
                in.reshape(java.util.Arrays.copyOf(dims, rank));
                return;
            }
        }
    }

    /**
     * Starts a new sequence: every state input of the next step gets shape {@code stateDims} (as
     * the model declares it, for example {@code [2, 1, 64]}) and zeros. For state inputs of
     * different shapes, reshape and fill {@link #input} yourself.
     */
    public void reset(long... stateDims) {
        for (String name : stateInputs) {
            Tensor t = batches[next].input(name);
            t.reshape(stateDims);
            t.data().asSlice(0, t.byteSize()).fill((byte) 0);
        }
    }

    private static int indexOf(String[] names, String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static int indexOfSpec(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).toList();
    }

    @Override
    public String toString() {
        return "state loop " + pairs + " after " + steps + " steps";
    }
}
