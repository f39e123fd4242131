package dev.dmalab.swiotlb;

import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.util.Bits;

/**
 * The {@code swiotlb=} kernel parameter, as {@code setup_io_tlb_npages()} parses it: {@code
 * <nslabs>[,<nareas>][,force|noforce]} (the area count from 6.0; 5.x reads {@code <nslabs>[,force|noforce]}).
 * {@code nslabs} is rounded up to a multiple of 128 at parse time.
 *
 * @param nslabs requested slots, -1 if not given (6.x reads an explicit 0 as 0 slots, raised to 128 per area)
 * @param nareas requested areas, -1 if not given (an explicit 0 means 1 area)
 * @param force {@code force}: bounce every streaming mapping
 * @param noforce {@code noforce}: no bouncing at all (5.0: a 1-slab pool that refuses every bounce; 6.x: no pool)
 */
public record SwiotlbParams(long nslabs, int nareas, boolean force, boolean noforce) {
    public static final SwiotlbParams NONE = new SwiotlbParams(-1, -1, false, false);

    public SwiotlbParams {
        if (nslabs < -1 || nareas < -1) {
            throw new IllegalArgumentException("negative swiotlb parameter");
        }
        if (force && noforce) {
            throw new IllegalArgumentException("swiotlb cannot be both force and noforce");
        }
    }

    /**
     * Parses the value of {@code swiotlb=} as {@code version} does. Text the kernel would ignore is ignored;
     * text it would misread is misread the same way (for example {@code 16384,2,force} on 5.x leaves the pool
     * unforced).
     *
     * @throws IllegalArgumentException for a value with no meaning at all (empty), or a number the model cannot
     *     hold (the kernel would silently wrap it)
     */
    public static SwiotlbParams parse(String value, KernelVersion version) {
        if (value.isEmpty()) {
            throw new IllegalArgumentException("swiotlb= needs a value");
        }
        int[] pos = {0};
        long nslabs = -1;
        int nareas = -1;
        if (Character.isDigit(value.charAt(0))) {
            nslabs = Bits.alignUp(strtoul(value, pos), IoTlbPool.IO_TLB_SEGSIZE);
        }
        if (pos[0] < value.length() && value.charAt(pos[0]) == ',') {
            pos[0]++;
        }
        if (version.has(Feature.SWIOTLB_AREAS)) {
            if (pos[0] < value.length() && Character.isDigit(value.charAt(pos[0]))) {
                long a = strtoul(value, pos);
                if (a > (1 << 20)) {
                    // Deliberate model limit: the kernel would raise the pool to 128 slots per area and halve it
                    // down on allocation failure; more than 2^20 areas is never a meaningful configuration.
                    throw new IllegalArgumentException(
                            "swiotlb=" + value + ": " + a + " areas is more than the model supports (1048576)");
                }
                nareas = (int) a;
            }
            if (pos[0] < value.length() && value.charAt(pos[0]) == ',') {
                pos[0]++;
            }
        }
        String rest = value.substring(pos[0]);
        boolean force = rest.equals("force");
        boolean noforce = rest.equals("noforce");
        return new SwiotlbParams(nslabs, nareas, force, noforce);
    }

    /**
     * {@code simple_strtoul(str, &end, 0)} from {@code pos[0]}: {@code 0x} followed by a hex digit is hex, any
     * other leading {@code 0} octal ({@code "0x"} without a hex digit reads as octal {@code 0}), else decimal.
     */
    private static long strtoul(String s, int[] pos) {
        int i = pos[0];
        int radix = 10;
        if (i < s.length() && s.charAt(i) == '0') {
            boolean hex = i + 2 < s.length()
                    && (s.charAt(i + 1) == 'x' || s.charAt(i + 1) == 'X')
                    && Character.digit(s.charAt(i + 2), 16) >= 0;
            radix = hex ? 16 : 8;
            if (hex) {
                i += 2;
            }
        }
        long v = 0;
        while (i < s.length() && Character.digit(s.charAt(i), radix) >= 0) {
            try {
                v = Math.addExact(Math.multiplyExact(v, radix), Character.digit(s.charAt(i), radix));
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("swiotlb=" + s + ": number out of range");
            }
            i++;
        }
        pos[0] = i;
        return v;
    }
}
