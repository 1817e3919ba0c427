package io.hotpath.nativebindings.ort;

import io.hotpath.nativebindings.NativeHandle;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The arrays ONNX Runtime's {@code Run} takes (input names and values, output names and
 * preallocated output values), made once in native memory. Setting a value writes one pointer;
 * a run passes the arrays as they are, so it allocates nothing on the Java heap.
 */
public final class RunArguments extends NativeHandle {
    final PointerPointer<BytePointer> inputNames;
    final PointerPointer<?> inputValues;
    final PointerPointer<BytePointer> outputNames;
    final PointerPointer<?> outputValues;
    final int inputCount;
    final int outputCount;
    private final BytePointer[] names;

    public RunArguments(List<String> inputs, List<String> outputs) {
        super("ONNX Runtime run arguments");
        this.inputCount = inputs.size();
        this.outputCount = outputs.size();
        this.names = new BytePointer[inputCount + outputCount];
        this.inputNames = new PointerPointer<>(Math.max(1, inputCount));
        this.outputNames = new PointerPointer<>(Math.max(1, outputCount));
        for (int i = 0; i < inputCount; i++) {
            names[i] = new BytePointer(inputs.get(i));
            inputNames.put(i, names[i]);
        }
        for (int i = 0; i < outputCount; i++) {
            names[inputCount + i] = new BytePointer(outputs.get(i));
            outputNames.put(i, names[inputCount + i]);
        }
        this.inputValues = new PointerPointer<>(Math.max(1, inputCount));
        this.outputValues = new PointerPointer<>(Math.max(1, outputCount));
    }

    /** Input {@code index} reads {@code value} on the next run. */
    public void input(int index, ValueHandle value) {
        checkOpen();
        inputValues.put(index, value.raw());
    }

    /** Output {@code index} is written into {@code value} on the next run. */
    public void output(int index, ValueHandle value) {
        checkOpen();
        outputValues.put(index, value.raw());
    }

    void checkUsable() {
        checkOpen();
    }

    @Override
    protected void release() {
        inputNames.close();
        outputNames.close();
        inputValues.close();
        outputValues.close();
        for (BytePointer n : names) {
            n.close();
        }
    }
}
