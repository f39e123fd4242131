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
    private final int mask;
    private final byte[][] keys;
    private final int[] hashes;
    private final Object[] values;

    /**
     * @param slots the number of slots, a power of two
     * @param make makes a key's value from its decoded text
     */
    Utf8Cache(int slots, Function<String, V> make) {
        if (slots <= 0 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two, got " + slots);
        }
        this.make = make;
        this.mask = slots - 1;
        this.keys = new byte[slots][];
        this.hashes = new int[slots];
        this.values = new Object[slots];
    }

    /** The value of the text whose UTF-8 bytes are {@code b[from, to)}. */
    @SuppressWarnings("unchecked")
    V get(byte[] b, int from, int to) {
        int n = to - from;
        if (n > MAX_KEY_BYTES) {
            return make.apply(new String(b, from, n, StandardCharsets.UTF_8));
        }
        int h = hash(b, from, to);
        int slot = h & mask;
        byte[] k = keys[slot];
        if (k != null && hashes[slot] == h && k.length == n && Arrays.equals(k, 0, n, b, from, to)) {
            return (V) values[slot];
        }
        V v = make.apply(new String(b, from, n, StandardCharsets.UTF_8));
        keys[slot] = Arrays.copyOfRange(b, from, to);
        hashes[slot] = h;
        values[slot] = v;
        return v;
    }

    /** A hash of {@code b[from, to)}, eight bytes at a time (the last word overlaps the one before it). */
    private static int hash(byte[] b, int from, int to) {
        int n = to - from;
        long h = n;
        if (n >= Long.BYTES) {
            for (int i = from; i < to - Long.BYTES; i += Long.BYTES) {
                h = (h ^ (long) LONGS.get(b, i)) * 0x9e3779b97f4a7c15L;
            }
            h = (h ^ (long) LONGS.get(b, to - Long.BYTES)) * 0x9e3779b97f4a7c15L;
        } else if (n > 0 && from + Long.BYTES <= b.length) {
            long word = (long) LONGS.get(b, from) & (-1L >>> (Long.SIZE - Byte.SIZE * n));
            h = (h ^ word) * 0x9e3779b97f4a7c15L;
        } else {
            for (int i = from; i < to; i++) {
                h = (h << 8 ^ (b[i] & 0xff)) * 0x9e3779b97f4a7c15L;
            }
        }
        return (int) (h ^ h >>> 29 ^ h >>> 47);
    }
}
