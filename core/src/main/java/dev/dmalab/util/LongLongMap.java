package dev.dmalab.util;

import java.util.Arrays;

/**
 * Open-addressing hash map from {@code long} keys to {@code long} values, with linear probing and backward-shift
 * deletion. It allocates only when it grows, so lookups, inserts into a sized map and removals are allocation-free.
 * Iteration order is never exposed to output: callers that print use sorted views.
 */
public final class LongLongMap {
    private static final long EMPTY = Long.MIN_VALUE;

    private long[] keys;
    private long[] values;
    private int size;
    private int mask;
    private final long missingValue;

    /** @param missingValue what {@link #get} returns for an absent key */
    public LongLongMap(int expectedSize, long missingValue) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedSize * 2 - 1)) << 1;
        this.keys = new long[capacity];
        this.values = new long[capacity];
        Arrays.fill(keys, EMPTY);
        this.mask = capacity - 1;
        this.missingValue = missingValue;
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private static void checkKey(long key) {
        if (key == EMPTY) {
            throw new IllegalArgumentException("key Long.MIN_VALUE is reserved");
        }
    }

    public long get(long key) {
        if (key == EMPTY) {
            return missingValue; // the empty-slot marker is never a key
        }
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == EMPTY) {
                return missingValue;
            }
            i = (i + 1) & mask;
        }
    }

    public boolean containsKey(long key) {
        if (key == EMPTY) {
            return false;
        }
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                return true;
            }
            if (k == EMPTY) {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /** Associates {@code value} with {@code key}; returns the previous value or the missing value. */
    public long put(long key, long value) {
        checkKey(key);
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                long old = values[i];
                values[i] = value;
                return old;
            }
            if (k == EMPTY) {
                keys[i] = key;
                values[i] = value;
                if (++size * 2 > keys.length) {
                    grow();
                }
                return missingValue;
            }
            i = (i + 1) & mask;
        }
    }

    /** Removes {@code key}; returns its value or the missing value. */
    public long remove(long key) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == EMPTY) {
                return missingValue;
            }
            if (k == key) {
                long old = values[i];
                shiftBack(i);
                size--;
                return old;
            }
            i = (i + 1) & mask;
        }
    }

    private void shiftBack(int hole) {
        int i = hole;
        while (true) {
            i = (i + 1) & mask;
            long k = keys[i];
            if (k == EMPTY) {
                keys[hole] = EMPTY;
                return;
            }
            int home = hash(k) & mask;
            // Move k into the hole if its home slot is not cyclically in (hole, i].
            boolean between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
            if (!between) {
                keys[hole] = k;
                values[hole] = values[i];
                hole = i;
            }
        }
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                put(oldKeys[i], oldValues[i]);
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
        Arrays.fill(keys, EMPTY);
        size = 0;
    }

    /** The keys in ascending (signed) order; allocates, for reports and tests only. */
    public long[] sortedKeys() {
        long[] out = new long[size];
        int n = 0;
        for (long k : keys) {
            if (k != EMPTY) {
                out[n++] = k;
            }
        }
        Arrays.sort(out);
        return out;
    }
}
