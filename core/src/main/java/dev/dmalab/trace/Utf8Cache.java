package dev.dmalab.trace;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;

/**
 * A bounded cache from short UTF-8 byte strings to values made from their text. The parser meets the same task
 * names, device names, event names, flag columns and field words ({@code FROM_DEVICE}, {@code GFP_KERNEL}) on almost
 * every line: each is decoded and made into its value once, and found again by its bytes, so that a steady state
 * allocates nothing for them (and equal names are the same {@code String}).
 *
 * <p>Implementation notes: direct-mapped — a key's hash picks one slot, and a different key that hashes to the same
 * slot replaces it — so memory is bounded however many distinct names a trace has, and nothing is ever iterated.
 * Keys longer than {@value #MAX_KEY_BYTES} bytes are not cached. A value's maker may throw (a word that is not a
 * direction, say); nothing is cached then, and the exception reaches the caller.
 *
 * @param <V> the value made from a key's text
 */
final class Utf8Cache<V> {
    static final int MAX_KEY_BYTES = 64;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final Function<String, V> make;
    private final int slotShift;
    private final byte[][] keys;
    /** Per slot: a short key's length and its two words ({@link #get}); -1 for a key compared by its bytes. */
    private final int[] lengths;

    private final long[] words0;
    private final long[] words1;
    private final Object[] values;

    /**
     * @param slots the number of slots, a power of two
     * @param make makes a key's value from its decoded text
     */
    Utf8Cache(int slots, Function<String, V> make) {
        if (slots < 2 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two, got " + slots);
        }
        this.make = make;
        this.slotShift = Long.SIZE - Integer.numberOfTrailingZeros(slots);
        this.keys = new byte[slots][];
        this.lengths = new int[slots];
        this.words0 = new long[slots];
        this.words1 = new long[slots];
        this.values = new Object[slots];
    }

    /** The value of the text whose UTF-8 bytes are {@code b[from, to)}. */
    @SuppressWarnings("unchecked")
    V get(byte[] b, int from, int to) {
        int n = to - from;
        if (n > MAX_KEY_BYTES) {
            return make.apply(new String(b, from, n, StandardCharsets.UTF_8));
        }
        if (n <= 2 * Long.BYTES && n > 0 && from + Long.BYTES <= b.length && to >= Long.BYTES) {
            // a short key as two words that cover its bytes (masked, or overlapping): compared without a call
            long w0 = (long) LONGS.get(b, from);
            long w1;
            if (n < Long.BYTES) {
                w0 &= -1L >>> (Long.SIZE - Byte.SIZE * n);
                w1 = 0;
            } else {
                w1 = (long) LONGS.get(b, to - Long.BYTES);
            }
            int slot = slot((w0 ^ n) * 0x9e3779b97f4a7c15L + w1);
            if (lengths[slot] == n && words0[slot] == w0 && words1[slot] == w1 && keys[slot] != null) {
                return (V) values[slot];
            }
            V v = make.apply(new String(b, from, n, StandardCharsets.UTF_8));
            store(slot, b, from, to, v);
            words0[slot] = w0;
            words1[slot] = w1;
            return v;
        }
        int slot = slot(hash(b, from, to));
        byte[] k = keys[slot];
        if (k != null && k.length == n && Arrays.equals(k, 0, n, b, from, to)) {
            return (V) values[slot];
        }
        V v = make.apply(new String(b, from, n, StandardCharsets.UTF_8));
        store(slot, b, from, to, v);
        words0[slot] = 0;
        words1[slot] = 0;
        lengths[slot] = -1; // long keys are compared by their bytes, never by words
        return v;
    }

    private void store(int slot, byte[] b, int from, int to, V v) {
        keys[slot] = Arrays.copyOfRange(b, from, to);
        lengths[slot] = to - from;
        values[slot] = v;
    }

    /** A hash of {@code b[from, to)}, eight bytes at a time (the last word overlaps the one before it). */
    private static long hash(byte[] b, int from, int to) {
        int n = to - from;
        long h = n;
        if (n >= Long.BYTES) {
            for (int i = from; i < to - Long.BYTES; i += Long.BYTES) {
                h = (h ^ (long) LONGS.get(b, i)) * 0x9e3779b97f4a7c15L;
            }
            return (h ^ (long) LONGS.get(b, to - Long.BYTES)) * 0x9e3779b97f4a7c15L;
        }
        for (int i = from; i < to; i++) {
            h = (h << 8 ^ (b[i] & 0xff)) * 0x9e3779b97f4a7c15L;
        }
        return h;
    }

    /** Fibonacci hashing: the top bits of {@code h} times the golden ratio, which depend on every bit of {@code h}. */
    private int slot(long h) {
        return (int) ((h * 0x9e3779b97f4a7c15L) >>> slotShift);
    }
}
