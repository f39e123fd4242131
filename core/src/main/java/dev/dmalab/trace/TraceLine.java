package dev.dmalab.trace;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One line of a trace as it was read: its UTF-8 bytes, without the line terminator, decoded to text only when asked
 * ({@link #toString()}). The parser keeps each line's bytes where it read them instead of building a string for
 * every line, since a replay quotes only the few lines around a mismatch. Equal when the bytes are equal.
 *
 * <p>Implementation note: the bytes are a range of one of the parser's read buffers, which it never writes again
 * once read; a line keeps its buffer (at most a few hundred KiB) reachable for as long as the line itself is.
 */
public final class TraceLine {
    private final byte[] bytes;
    private final int offset;
    private final int lengthBytes;
    /** The decoded text, set on first use (like {@code String.hash}: racing threads would store equal strings). */
    private String text;

    TraceLine(byte[] bytes, int offset, int lengthBytes) {
        if (offset < 0 || lengthBytes < 0 || offset + lengthBytes > bytes.length) {
            throw new IndexOutOfBoundsException(
                    "line [" + offset + ", " + (offset + lengthBytes) + ") of a " + bytes.length + "-byte buffer");
        }
        this.bytes = bytes;
        this.offset = offset;
        this.lengthBytes = lengthBytes;
    }

    /** A line given as text (for tests and for lines that were never bytes). */
    public static TraceLine of(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return new TraceLine(b, 0, b.length);
    }

    /** The line's length in bytes. */
    public int lengthBytes() {
        return lengthBytes;
    }

    /** The line as text (malformed UTF-8 reads as U+FFFD, as a decoding reader would give it). */
    @Override
    public String toString() {
        String t = text;
        if (t == null) {
            t = new String(bytes, offset, lengthBytes, StandardCharsets.UTF_8);
            text = t;
        }
        return t;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TraceLine l
                && Arrays.equals(bytes, offset, offset + lengthBytes, l.bytes, l.offset, l.offset + l.lengthBytes);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = offset; i < offset + lengthBytes; i++) {
            h = 31 * h + bytes[i];
        }
        return h;
    }
}
