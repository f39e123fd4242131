package dev.dmalab.util;

import java.util.Arrays;

/**
 * Open-addressing hash map from {@code long} keys to non-null object values, with linear probing and backward-shift
 * deletion: {@link LongLongMap}'s layout with objects for values. Every {@code long} is a valid key (a slot is empty
 * when its value is null). Lookups, replacing puts and removals allocate nothing; a put allocates only when the
 * table grows.
 *
 * <p>Keys are spread by a multiplicative hash, so keys that share their low bits — page-aligned addresses, the
 * case {@code HashMap<Long, V>} degrades on (its {@code Long.hashCode ^ h >>> 16} sends every page-aligned address
 * below 4 GiB to one bin) — probe as well as any others.
 *
 * <p>Iteration is by slot ({@link #slots()}, {@link #valueAt}): an order that depends on the keys' hashes and the
 * history of the table. Callers never let it reach output; they either need no order or impose their own.
 *
 * @param <V> the values
 */
public final class LongObjectMap<V> {
    private long[] keys;
    private Object[] values;
    private int size;
    private int mask;

    public LongObjectMap(int expectedSize) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedSize * 2 - 1)) << 1;
        this.keys = new long[capacity];
        this.values = new Object[capacity];
        this.mask = capacity - 1;
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** The slot of {@code key}, or of the empty slot where its probe ends. */
    private int slotOf(long key) {
        int i = hash(key) & mask;
        while (values[i] != null && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    /** The value of {@code key}, or null. */
    @SuppressWarnings("unchecked")
    public V get(long key) {
        return (V) values[slotOf(key)];
    }

    /** Associates {@code value} (not null) with {@code key}; returns the previous value or null. */
    @SuppressWarnings("unchecked")
    public V put(long key, V value) {
        if (value == null) {
            throw new IllegalArgumentException("null value for key " + key);
        }
        int i = slotOf(key);
        V old = (V) values[i];
        keys[i] = key;
        values[i] = value;
        if (old == null && ++size * 2 > keys.length) {
            grow();
        }
        return old;
    }

    /** Removes {@code key}; returns its value or null. */
    @SuppressWarnings("unchecked")
    public V remove(long key) {
        int i = slotOf(key);
        V old = (V) values[i];
        if (old != null) {
            shiftBack(i);
            size--;
        }
        return old;
    }

    /** Fills the hole at {@code hole} with the later entries of its probe run that may move into it. */
    private void shiftBack(int hole) {
        int i = hole;
        while (true) {
            i = (i + 1) & mask;
            if (values[i] == null) {
                values[hole] = null;
                return;
            }
            int home = hash(keys[i]) & mask;
            // Move entry i into the hole if its home slot is not cyclically in (hole, i].
            boolean between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
            if (!between) {
                keys[hole] = keys[i];
                values[hole] = values[i];
                hole = i;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void grow() {
        long[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new Object[oldKeys.length * 2];
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != null) {
                put(oldKeys[i], (V) oldValues[i]);
            }
        }
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public void clear() {
        Arrays.fill(values, null);
        size = 0;
    }

    /** The number of slots, for iteration with {@link #valueAt}. */
    public int slots() {
        return values.length;
    }

    /** The value in slot {@code slot}, or null if the slot is empty. */
    @SuppressWarnings("unchecked")
    public V valueAt(int slot) {
        return (V) values[slot];
    }
}
