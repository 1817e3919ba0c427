package io.hotpath.core;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A view of one tensor in off-heap memory: the {@link TensorSpec} it must satisfy, the memory
 * that holds it (its capacity) and its current concrete shape, which may change from run to run
 * within that capacity. No copy is ever made: an engine reads and writes {@link #data()} in place.
 *
 * <p>Element accessors take a flat element index in row-major order. They check the index
 * against the current shape when {@link #BOUNDS_CHECKS} is on (the system property
 * {@code hotpath.boundsChecks}, default on); the memory segment always checks its own capacity.
 *
 * <p>An output whose shape is known only after the run is <em>engine-allocated</em>
 * ({@link #engineAllocated}): it has no memory of its own; after each run the engine points it at
 * the memory the engine allocated for that run's result ({@link #attach}). Its {@link #data()}
 * is then a zero-copy view valid until the next run of the same batch, which replaces it.
 *
 * <p>Not thread-safe: one writer at a time, as for any buffer.
 */
public final class Tensor {
    /** Read once from {@code -Dhotpath.boundsChecks} (default true); the JIT folds it away when off. */
    public static final boolean BOUNDS_CHECKS = !"false".equals(System.getProperty("hotpath.boundsChecks"));

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final TensorSpec spec;
    private MemorySegment data;
    /** A string tensor's text: records [int32 length][UTF-8 bytes][NUL], appended by putString. */
    private MemorySegment text = MemorySegment.NULL;
    private long textUsed;
    private final boolean engineAllocated;
    private final long[] dims;
    private final long[] previous;
    private long elementCount;

    /**
     * A tensor over {@code data}. Its initial shape is the spec's shape with every dynamic
     * dimension set to as many elements as fit (dynamic dimensions after the first are 1).
     */
    public Tensor(TensorSpec spec, MemorySegment data) {
        this.spec = java.util.Objects.requireNonNull(spec, "spec");
        this.data = java.util.Objects.requireNonNull(data, "data");
        this.engineAllocated = false;
        Shape s = spec.shape();
        this.dims = new long[s.rank()];
        this.previous = new long[s.rank()];
        long fixed = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = s.isDynamic(i) ? 1 : s.dim(i);
            fixed = Math.multiplyExact(fixed, dims[i]);
        }
        long bytes = fixed * spec.dtype().byteSize();
        if (bytes > data.byteSize()) {
            throw HotpathException.invalidArgument("tensor '" + spec.name() + "': memory of " + data.byteSize()
                    + " bytes cannot hold even one row of " + spec + " (" + bytes + " bytes)");
        }
        this.elementCount = fixed;
    }

    private Tensor(TensorSpec spec) {
        this.spec = java.util.Objects.requireNonNull(spec, "spec");
        this.data = MemorySegment.NULL;
        this.engineAllocated = true;
        this.dims = new long[spec.shape().rank()];
        this.previous = new long[dims.length];
        this.elementCount = 0;
    }

    /**
     * An output tensor without memory of its own, for an output whose shape is known only after
     * the run: the engine {@link #attach attaches} its result after each run. Until then it has
     * no elements (every dimension 0).
     */
    public static Tensor engineAllocated(TensorSpec spec) {
        return new Tensor(spec);
    }

    /** Whether this tensor's memory is the engine's, attached after each run ({@link #engineAllocated}). */
    public boolean isEngineAllocated() {
        return engineAllocated;
    }

    /**
     * For engines: points this engine-allocated tensor at {@code memory}, which holds a result of
     * shape {@code newDims[0..rank)} (checked against the spec, as {@link #reshape(long[])} does,
     * and against the memory's size). Allocation-free. An ENGINE_FAILURE naming the tensor when
     * the engine produced a rank or fixed dimension the model does not declare.
     */
    public void attach(MemorySegment memory, long[] newDims, int rank) {
        if (!engineAllocated) {
            throw new IllegalStateException("tensor '" + name() + "' has its own memory; only an engine-allocated tensor is attached");
        }
        if (rank != dims.length || !spec.shape().accepts(newDims, rank)) {
            throw new HotpathException(HotpathException.Category.ENGINE_FAILURE, "output '" + name() + "': the engine produced shape "
                    + Shape.format(newDims, rank) + ", which the model's declared " + spec.shape() + " does not allow");
        }
        long n = 1;
        for (int d = 0; d < rank; d++) {
            n = Math.multiplyExact(n, newDims[d]);
        }
        if (n * spec.dtype().byteSize() > memory.byteSize()) {
            throw new HotpathException(HotpathException.Category.ENGINE_FAILURE, "output '" + name() + "': shape "
                    + Shape.format(newDims, rank) + " needs more than the " + memory.byteSize() + " bytes the engine gave");
        }
        System.arraycopy(newDims, 0, dims, 0, rank);
        elementCount = n;
        data = memory;
    }

    /**
     * A string tensor over {@code table} (8 bytes per element: where each element's string is) and
     * {@code text} (the strings' bytes, appended by {@link #putString}).
     */
    public static Tensor ofStrings(TensorSpec spec, MemorySegment table, MemorySegment text) {
        if (spec.dtype() != DType.STRING) {
            throw HotpathException.invalidArgument("tensor '" + spec.name() + "' is " + spec.dtype() + ", not string");
        }
        Tensor t = new Tensor(spec, table);
        t.text = java.util.Objects.requireNonNull(text, "text");
        return t;
    }

    /**
     * Sets string element {@code index} (row-major, within the current shape) to {@code value}: its
     * UTF-8 bytes are appended to the tensor's text memory. Text is not reclaimed per element:
     * {@link #clearStrings()} before refilling a tensor for the next run. A string that contains
     * NUL, or that does not fit the text memory left, is an INVALID_ARGUMENT naming the tensor.
     */
    public void putString(long index, String value) {
        checkString();
        long at = offset(index, 8);
        byte[] utf8 = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (value.indexOf('\0') >= 0) {
            throw HotpathException.invalidArgument("tensor '" + name() + "': element " + index + " contains a NUL character, "
                    + "which ONNX Runtime's string tensors cannot carry");
        }
        long need = 4L + utf8.length + 1;
        if (need > text.byteSize() - textUsed) {
            throw HotpathException.invalidArgument("tensor '" + name() + "': element " + index + " (" + utf8.length + " bytes of UTF-8) does not fit the "
                    + (text.byteSize() - textUsed) + " bytes of text memory left of " + text.byteSize()
                    + "; clearStrings() before refilling, or raise the engine's maxStringBytes");
        }
        text.set(I32, textUsed, utf8.length);
        MemorySegment.copy(utf8, 0, text, ValueLayout.JAVA_BYTE, textUsed + 4, utf8.length);
        text.set(ValueLayout.JAVA_BYTE, textUsed + 4 + utf8.length, (byte) 0);
        data.set(I64, at, textUsed + 1);      // 0 means "not set"
        textUsed += need;
    }

    /** String element {@code index}; INVALID_ARGUMENT when it was never set. */
    public String getString(long index) {
        checkString();
        long entry = data.get(I64, offset(index, 8)) - 1;
        if (entry < 0 || entry + 4 > textUsed) {
            throw HotpathException.invalidArgument("tensor '" + name() + "': string element " + index + " is not set");
        }
        int len = text.get(I32, entry);
        if (len < 0 || entry + 4 + len > textUsed) {
            throw HotpathException.invalidArgument("tensor '" + name() + "': string element " + index + " is corrupt (length " + len + ")");
        }
        byte[] b = new byte[len];
        MemorySegment.copy(text, ValueLayout.JAVA_BYTE, entry + 4, b, 0, len);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Forgets every string element (they read as not set) and frees the text memory for new ones. */
    public void clearStrings() {
        checkString();
        data.asSlice(0, Math.min(data.byteSize(), capacityElements() * 8)).fill((byte) 0);
        textUsed = 0;
    }

    /** A string tensor's text memory (records {@code [int32 length][UTF-8][NUL]}); for engines. */
    public MemorySegment text() {
        checkString();
        return text;
    }

    /** Bytes of {@link #text()} in use; for engines. */
    public long textUsed() {
        return textUsed;
    }

    /**
     * For engines: points this engine-allocated string tensor at a table and text the engine
     * filled (records as {@link #putString} writes them), with shape {@code newDims[0..rank)}.
     */
    public void attachStrings(MemorySegment table, MemorySegment newText, long used, long[] newDims, int rank) {
        checkString();
        attach(table, newDims, rank);
        text = newText;
        textUsed = used;
    }

    private void checkString() {
        if (spec.dtype() != DType.STRING) {
            throw HotpathException.invalidArgument("tensor '" + name() + "' is " + spec.dtype() + ", not string");
        }
    }

    private HotpathException notNumeric() {
        return HotpathException.invalidArgument("tensor '" + name() + "' is a string tensor; read it with getString");
    }

    /** For engines: leaves an engine-allocated tensor without memory (no elements) before its memory is freed. */
    public void detach() {
        if (engineAllocated) {
            data = MemorySegment.NULL;
            text = MemorySegment.NULL;
            textUsed = 0;
            java.util.Arrays.fill(dims, 0);
            elementCount = 0;
        }
    }

    /** A tensor with its own zeroed memory for the given shape, from {@code arena}. */
    public static Tensor allocate(TensorSpec spec, java.lang.foreign.Arena arena, long... dims) {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        Tensor t = new Tensor(spec, arena.allocate(Math.max(1, n * spec.dtype().byteSize()), 64));
        t.reshape(dims);
        return t;
    }

    public TensorSpec spec() {
        return spec;
    }

    public String name() {
        return spec.name();
    }

    public DType dtype() {
        return spec.dtype();
    }

    /**
     * All the memory behind this tensor (its capacity), not only the current shape's bytes. For an
     * engine-allocated tensor: the last run's result, valid until the next run of its batch.
     */
    public MemorySegment data() {
        return data;
    }

    public int rank() {
        return dims.length;
    }

    /** The current size of dimension {@code i}. */
    public long dim(int i) {
        return dims[i];
    }

    /** The current dimensions, copied (allocates; for diagnostics). */
    public long[] shape() {
        return dims.clone();
    }

    /** Writes the current dimensions into {@code out} (allocation-free) and returns the rank. */
    public int shapeInto(long[] out) {
        System.arraycopy(dims, 0, out, 0, dims.length);
        return dims.length;
    }

    /** Elements in the current shape. */
    public long elementCount() {
        return elementCount;
    }

    /** Bytes in the current shape. */
    public long byteSize() {
        return elementCount * spec.dtype().byteSize();
    }

    /** The largest number of elements the memory can hold. */
    public long capacityElements() {
        return data.byteSize() / spec.dtype().byteSize();
    }

    /** Sets the current shape of a rank-1 tensor. */
    public Tensor reshape(long d0) {
        checkRank(1);
        saveShape();
        dims[0] = d0;
        return afterReshape();
    }

    /** Sets the current shape of a rank-2 tensor. */
    public Tensor reshape(long d0, long d1) {
        checkRank(2);
        saveShape();
        dims[0] = d0;
        dims[1] = d1;
        return afterReshape();
    }

    /** Sets the current shape of a rank-3 tensor. */
    public Tensor reshape(long d0, long d1, long d2) {
        checkRank(3);
        saveShape();
        dims[0] = d0;
        dims[1] = d1;
        dims[2] = d2;
        return afterReshape();
    }

    /**
     * Sets the current shape. The rank must be the spec's, every fixed dimension must match, and
     * the shape must fit the memory; otherwise an {@link HotpathException.Category#INVALID_ARGUMENT}
     * naming this tensor, what it expected and what it was given. The shape is unchanged on failure.
     */
    public Tensor reshape(long[] newDims) {
        checkRank(newDims.length);
        saveShape();
        System.arraycopy(newDims, 0, dims, 0, dims.length);
        return afterReshape();
    }

    private void checkRank(int rank) {
        if (dims.length != rank) {
            throw HotpathException.invalidArgument("tensor '" + name() + "': rank " + rank + " shape given, expected rank "
                    + dims.length + " " + spec.shape());
        }
    }

    private void saveShape() {
        System.arraycopy(dims, 0, previous, 0, dims.length);
    }

    private Tensor afterReshape() {
        if (!spec.shape().accepts(dims, dims.length)) {
            String given = Shape.format(dims, dims.length);
            System.arraycopy(previous, 0, dims, 0, dims.length);
            throw HotpathException.invalidArgument("tensor '" + name() + "': shape " + given + " given, expected " + spec.shape());
        }
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        long bytes = n * spec.dtype().byteSize();
        if (bytes > data.byteSize()) {
            String given = Shape.format(dims, dims.length);
            System.arraycopy(previous, 0, dims, 0, dims.length);
            throw HotpathException.invalidArgument("tensor '" + name() + "': shape " + given + " needs " + bytes
                    + " bytes, more than its capacity of " + data.byteSize() + " bytes");
        }
        elementCount = n;
        return this;
    }

    private long offset(long index, int elementBytes) {
        if (BOUNDS_CHECKS && (index < 0 || index >= elementCount)) {
            throw new IndexOutOfBoundsException("tensor '" + name() + "': element " + index + " outside shape "
                    + Shape.format(dims, dims.length) + " (" + elementCount + " elements)");
        }
        return index * elementBytes;
    }

    public float getFloat(long index) {
        return data.get(F32, offset(index, 4));
    }

    public void putFloat(long index, float value) {
        data.set(F32, offset(index, 4), value);
    }

    public long getLong(long index) {
        return data.get(I64, offset(index, 8));
    }

    public void putLong(long index, long value) {
        data.set(I64, offset(index, 8), value);
    }

    public int getInt(long index) {
        return data.get(I32, offset(index, 4));
    }

    public void putInt(long index, int value) {
        data.set(I32, offset(index, 4), value);
    }

    /** The raw 16 bits of a float16 or bfloat16 element. */
    public short getShort(long index) {
        return data.get(I16, offset(index, 2));
    }

    public void putShort(long index, short value) {
        data.set(I16, offset(index, 2), value);
    }

    public byte getByte(long index) {
        return data.get(ValueLayout.JAVA_BYTE, offset(index, 1));
    }

    public void putByte(long index, byte value) {
        data.set(ValueLayout.JAVA_BYTE, offset(index, 1), value);
    }

    public double getDouble(long index) {
        return data.get(F64, offset(index, 8));
    }

    public void putDouble(long index, double value) {
        data.set(F64, offset(index, 8), value);
    }

    /**
     * Reads any element as a float (float16 and bfloat16 are widened, float64 and the wide
     * integers rounded to the nearest float, unsigned integers read as unsigned, bool as 0 or 1).
     */
    public float getAsFloat(long index) {
        return switch (spec.dtype()) {
            case STRING -> throw notNumeric();
            case FLOAT32 -> getFloat(index);
            case FLOAT16, BFLOAT16, FLOAT64, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> (float) getAsDouble(index);
            case UINT64 -> {
                long v = getLong(index);
                yield v >= 0 ? v : ((float) ((v >>> 1) | (v & 1))) * 2f;    // see getAsDouble
            }
            default -> getAsLong(index);
        };
    }

    /**
     * Reads any element as a double: exact for every type but int64 and uint64 beyond 2^53 (rounded
     * to the nearest double); unsigned integers are read as unsigned.
     */
    public double getAsDouble(long index) {
        return switch (spec.dtype()) {
            case STRING -> throw notNumeric();
            case FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> Float8.decode(Float8.format(spec.dtype()), getByte(index));
            case FLOAT32 -> getFloat(index);
            case FLOAT64 -> getDouble(index);
            case FLOAT16 -> Float.float16ToFloat(getShort(index));
            case BFLOAT16 -> Float.intBitsToFloat(getShort(index) << 16);
            case UINT64 -> {
                long v = getLong(index);
                // the top bit is 2^63, not a sign: halve (keeping the low bit for rounding), convert, double
                yield v >= 0 ? v : ((double) ((v >>> 1) | (v & 1))) * 2.0;
            }
            default -> getAsLong(index);
        };
    }

    /**
     * Reads an integer or bool element as a long: signed types sign-extended, unsigned ones
     * zero-extended (a uint64 above {@link Long#MAX_VALUE} comes back as its two's-complement bits,
     * as {@link Long#toUnsignedString} reads them), bool as 0 or 1. INVALID_ARGUMENT for a
     * floating-point tensor, where a silent truncation would hide a wrong type.
     */
    public long getAsLong(long index) {
        return switch (spec.dtype()) {
            case INT8 -> getByte(index);
            case UINT8, BOOL -> getByte(index) & 0xFF;
            case INT16 -> getShort(index);
            case UINT16 -> getShort(index) & 0xFFFF;
            case INT32 -> getInt(index);
            case UINT32 -> getInt(index) & 0xFFFF_FFFFL;
            case INT64, UINT64 -> getLong(index);
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ ->
                    throw HotpathException.invalidArgument("tensor '" + name() + "' is "
                    + spec.dtype() + ", not an integer type; read it with getAsDouble");
            case STRING -> throw notNumeric();
        };
    }

    /**
     * Writes {@code value} to any element, converted as a cast would: rounded to the nearest
     * float32/float16/bfloat16, truncated toward zero and wrapped to the width of an integer type,
     * bool as {@code value != 0}.
     */
    public void putAsDouble(long index, double value) {
        switch (spec.dtype()) {
            case FLOAT32 -> putFloat(index, (float) value);
            case FLOAT64 -> putDouble(index, value);
            case FLOAT16 -> putShort(index, Float.floatToFloat16((float) value));
            case BFLOAT16 -> putShort(index, bfloat16((float) value));
            case BOOL -> putByte(index, (byte) (value != 0 ? 1 : 0));
            case STRING -> throw notNumeric();
            case FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> putByte(index, Float8.encode(Float8.format(spec.dtype()), value));
            case UINT64 -> putLong(index, value >= 0x1p63 ? (long) (value - 0x1p63) + Long.MIN_VALUE : (long) value);
            default -> putAsLong(index, (long) value);
        }
    }

    /**
     * Writes {@code value} to an integer or bool element, keeping its low bits (the integer types
     * wrap as in C), bool as {@code value != 0}; floating-point types get the nearest value.
     */
    public void putAsLong(long index, long value) {
        switch (spec.dtype()) {
            case INT8, UINT8 -> putByte(index, (byte) value);
            case BOOL -> putByte(index, (byte) (value != 0 ? 1 : 0));
            case INT16, UINT16 -> putShort(index, (short) value);
            case INT32, UINT32 -> putInt(index, (int) value);
            case INT64, UINT64 -> putLong(index, value);
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> putAsDouble(index, value);
            case STRING -> throw notNumeric();
        }
    }

    /** The bfloat16 nearest to {@code f} (ties to even), NaN kept a quiet NaN. */
    static short bfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    @Override
    public String toString() {
        return name() + " " + dtype() + Shape.format(dims, dims.length) + " (capacity " + data.byteSize() + " B)";
    }
}
