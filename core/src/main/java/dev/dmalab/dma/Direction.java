package dev.dmalab.dma;

/** {@code enum dma_data_direction} (stable since 2.6). */
public enum Direction {
    BIDIRECTIONAL(0),
    TO_DEVICE(1),
    FROM_DEVICE(2),
    /** Not valid for any map or sync: every public entry point BUG()s on it ({@code valid_dma_direction}). */
    NONE(3);

    private final int value;

    Direction(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    /** {@code valid_dma_direction(dir)}. */
    public boolean valid() {
        return this != NONE;
    }

    /** The name the {@code dma:*} tracepoints print ({@code TO_DEVICE}). */
    public String traceName() {
        return name();
    }

    /** The name dma-debug prints ({@code DMA_TO_DEVICE}). */
    public String kernelName() {
        return "DMA_" + name();
    }

    /** Whether the device may write the buffer (the CPU must invalidate/copy back after DMA). */
    public boolean deviceWrites() {
        return this == FROM_DEVICE || this == BIDIRECTIONAL;
    }

    /** Whether the device reads the buffer (the CPU must clean/copy before DMA). */
    public boolean deviceReads() {
        return this == TO_DEVICE || this == BIDIRECTIONAL;
    }

    public static Direction ofValue(int value) {
        for (Direction d : values()) {
            if (d.value == value) {
                return d;
            }
        }
        throw new IllegalArgumentException("no DMA direction with value " + value);
    }

    /** Parses a trace or user name: {@code TO_DEVICE}, {@code DMA_TO_DEVICE}, {@code to_device}, {@code BIDI}. */
    public static Direction parse(String text) {
        String t = text.trim().toUpperCase(java.util.Locale.ROOT);
        if (t.startsWith("DMA_")) {
            t = t.substring(4);
        }
        if (t.equals("BIDI")) {
            return BIDIRECTIONAL;
        }
        for (Direction d : values()) {
            if (d.name().equals(t)) {
                return d;
            }
        }
        throw new IllegalArgumentException(
                "expected one of TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL, NONE, got " + text.trim());
    }
}
