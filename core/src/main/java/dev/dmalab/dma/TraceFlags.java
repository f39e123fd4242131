package dev.dmalab.dma;

/** ftrace's {@code __print_flags}: the one flag-printing rule every tracepoint decoder shares. */
final class TraceFlags {
    private TraceFlags() {}

    /**
     * For each table entry in order whose bits are all set, prints its name and clears those bits; then prints the
     * leftover bits as {@code 0x%lx}; entries are separated by {@code |}.
     *
     * @param ifZero what to print when {@code value} is 0 ({@code ""} for attrs, {@code "none"} for gfp)
     */
    static String print(long value, long[] masks, String[] names, String ifZero) {
        if (value == 0) {
            return ifZero;
        }
        StringBuilder sb = new StringBuilder();
        long left = value;
        for (int i = 0; i < masks.length && left != 0; i++) {
            long mask = masks[i];
            if (mask == 0 || (left & mask) != mask) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append('|');
            }
            sb.append(names[i]);
            left &= ~mask;
        }
        if (left != 0) {
            if (sb.length() > 0) {
                sb.append('|');
            }
            sb.append("0x").append(Long.toHexString(left));
        }
        return sb.toString();
    }
}
