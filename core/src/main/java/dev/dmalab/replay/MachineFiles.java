package dev.dmalab.replay;

import dev.dmalab.platform.InputException;
import dev.dmalab.platform.PlatformProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Readers for the files a capture brings along from the machine it ran on: {@code /proc/cmdline}, {@code
 * /proc/iomem}, the kernel log, and a device list with DMA masks (the {@code devices.txt} of the capture scripts:
 * one line per PCI function with {@code bdf=} or {@code ==} and {@code dma_mask_bits=}). Each reader names the file
 * and line of anything it cannot read ({@link InputException}).
 *
 * <p>Only what decides DMA addresses is taken: RAM ranges, the swiotlb pool's placement and geometry where the
 * kernel printed them, the CPU count, the devices' masks and drivers.
 */
public final class MachineFiles {
    private MachineFiles() {}

    /**
     * What the kernel log says about the DMA set-up; -1 / null where it says nothing.
     *
     * @param swiotlbEnd the printed end, which is exclusive ({@code pool->end = start + bytes})
     */
    public record Dmesg(
            long swiotlbStart,
            long swiotlbEnd,
            int swiotlbLine,
            int areas,
            int areasLine,
            int cpus,
            int cpusLine,
            String xenVersion,
            List<PlatformProfile.Range> hostBridgeWindows,
            int windowsLine,
            int iommuAddressBits,
            int iommuAddressBitsLine) {
        /** Slots of the printed pool, or -1 ({@code swiotlb_print_info} prints {@code start-end} with the end exclusive). */
        public long swiotlbNslabs() {
            return swiotlbStart < 0 ? -1 : (swiotlbEnd - swiotlbStart) >>> 11;
        }
    }

    /** One device of a device list. */
    public record DeviceFact(String name, String driver, int maskBits, int coherentMaskBits, int line) {}

    /** The contents of {@code /proc/cmdline}: one line, surrounding blanks dropped. */
    public static String cmdline(String file, String text) {
        String t = text.strip();
        if (t.contains("\n")) {
            throw new InputException(file, 2, null, "a kernel command line is one line");
        }
        return t;
    }

    private static final Pattern IOMEM = Pattern.compile("^([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.+)$");

    /**
     * The top-level {@code System RAM} ranges of {@code /proc/iomem}, rounded inwards to whole pages as memblock
     * hands them to the page allocator ({@code PFN_UP(start)}, {@code PFN_DOWN(end + 1)}).
     */
    public static List<PlatformProfile.Range> iomemRam(String file, String text, long pageSize) {
        List<PlatformProfile.Range> ram = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        boolean allZero = true;
        int entries = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            if (Character.isWhitespace(line.charAt(0))) {
                continue; // a child resource ("  01000000-01ffffff : Kernel code")
            }
            Matcher m = IOMEM.matcher(line.stripTrailing());
            if (!m.matches()) {
                throw new InputException(file, i + 1, null, "expected 'start-end : name', got '" + line.strip() + "'");
            }
            long start;
            long end;
            try {
                start = Long.parseUnsignedLong(m.group(1), 16);
                end = Long.parseUnsignedLong(m.group(2), 16);
            } catch (NumberFormatException e) {
                throw new InputException(file, i + 1, null, "address out of range in '" + line.strip() + "'");
            }
            entries++;
            if (start != 0 || end != 0) {
                allZero = false;
            }
            if (Long.compareUnsigned(end, start) < 0) {
                throw new InputException(file, i + 1, null, "range ends before it starts: '" + line.strip() + "'");
            }
            if (!m.group(3).equals("System RAM")) {
                continue;
            }
            long s = (start + pageSize - 1) & -pageSize;
            long e = (end + 1) & -pageSize;
            if (e > s) {
                ram.add(new PlatformProfile.Range(s, e - s, "System RAM"));
            }
        }
        if (allZero && entries > 0) {
            throw new InputException(
                    file, 1, null, "every address is zero: /proc/iomem was read without root; read it as root");
        }
        if (ram.isEmpty()) {
            throw new InputException(file, 0, null, "no top-level 'System RAM' range");
        }
        return ram;
    }

    private static final Pattern MAPPED =
            Pattern.compile("software IO TLB: mapped \\[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\\]");
    private static final Pattern AREAS = Pattern.compile("software IO TLB: area num (\\d+)\\.");
    private static final Pattern SMP = Pattern.compile("smp: Brought up \\d+ nodes?, (\\d+) CPUs?");
    private static final Pattern XEN = Pattern.compile("Xen (\\d+\\.\\d+) support found");
    private static final Pattern ROOT_MEM = Pattern.compile(
            "pci_bus [0-9a-fA-F:]+: root bus resource \\[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)( window)?\\]");
    private static final Pattern DMAR_WIDTH = Pattern.compile("DMAR: Host address width (\\d+)");

    /** Reads the DMA-relevant lines of a kernel log ({@code dmesg}, with or without timestamps). */
    public static Dmesg dmesg(String file, String text) {
        long start = -1;
        long end = -1;
        int swLine = 0;
        int areas = -1;
        int areasLine = 0;
        int cpus = -1;
        int cpusLine = 0;
        String xen = null;
        List<PlatformProfile.Range> windows = new ArrayList<>();
        int windowsLine = 0;
        int width = -1;
        int widthLine = 0;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            Matcher m = MAPPED.matcher(line);
            if (m.find() && start < 0) {
                start = hex(file, i + 1, m.group(1));
                end = hex(file, i + 1, m.group(2));
                if (end <= start || ((end - start) & 2047) != 0) {
                    throw new InputException(file, i + 1, null, "swiotlb range is not a whole number of 2 KiB slots");
                }
                swLine = i + 1;
                continue;
            }
            m = AREAS.matcher(line);
            if (m.find() && areas < 0) {
                areas = count(file, i + 1, m.group(1));
                areasLine = i + 1;
                continue;
            }
            m = SMP.matcher(line);
            if (m.find() && cpus < 0) {
                cpus = count(file, i + 1, m.group(1));
                cpusLine = i + 1;
                continue;
            }
            m = XEN.matcher(line);
            if (m.find() && xen == null) {
                xen = m.group(1);
                continue;
            }
            m = ROOT_MEM.matcher(line);
            if (m.find()) {
                long ws = hex(file, i + 1, m.group(1));
                long we = hex(file, i + 1, m.group(2));
                if (we < ws) {
                    throw new InputException(file, i + 1, null, "root bus resource ends before it starts");
                }
                windows.add(new PlatformProfile.Range(ws, we - ws + 1, "root bus resource"));
                windowsLine = windowsLine == 0 ? i + 1 : windowsLine;
                continue;
            }
            m = DMAR_WIDTH.matcher(line);
            if (m.find() && width < 0) {
                width = count(file, i + 1, m.group(1));
                if (width < 32 || width > 64) {
                    throw new InputException(file, i + 1, null, "host address width " + width + " is not 32..64");
                }
                widthLine = i + 1;
            }
        }
        return new Dmesg(
                start,
                end,
                swLine,
                areas,
                areasLine,
                cpus,
                cpusLine,
                xen,
                List.copyOf(windows),
                windowsLine,
                width,
                widthLine);
    }

    private static long hex(String file, int line, String v) {
        try {
            return Long.parseUnsignedLong(v.substring(2), 16);
        } catch (NumberFormatException e) {
            throw new InputException(file, line, null, "address " + v + " out of range");
        }
    }

    private static int count(String file, int line, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n < 1 || n > 1024) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new InputException(file, line, null, "count " + v + " is out of range (1..1024)");
        }
    }

    private static final Pattern DEV_NAME =
            Pattern.compile("(?:bdf=|^== )([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7])");

    /** The devices of a device list that carry {@code dma_mask_bits=} (other lines are ignored). */
    public static List<DeviceFact> devices(String file, String text) {
        List<DeviceFact> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (!line.contains("dma_mask_bits=")) {
                continue;
            }
            Matcher m = DEV_NAME.matcher(line);
            if (!m.find()) {
                throw new InputException(file, i + 1, null, "a line with dma_mask_bits= but no 'bdf=' device name");
            }
            String driver = token(line, "driver=");
            int bits = bits(file, i + 1, token(line, "dma_mask_bits="), "dma_mask_bits");
            String cm = token(line, "consistent_dma_mask_bits=");
            int cbits = cm == null ? bits : bits(file, i + 1, cm, "consistent_dma_mask_bits");
            out.add(new DeviceFact(m.group(1), driver == null || driver.equals("-") ? "" : driver, bits, cbits, i + 1));
        }
        return out;
    }

    private static String token(String line, String key) {
        int p = -1;
        int from = 0;
        while ((p = line.indexOf(key, from)) >= 0) {
            if (p == 0 || line.charAt(p - 1) == ' ') {
                break;
            }
            from = p + 1;
        }
        if (p < 0) {
            return null;
        }
        int s = p + key.length();
        int e = line.indexOf(' ', s);
        return line.substring(s, e < 0 ? line.length() : e);
    }

    private static int bits(String file, int line, String v, String field) {
        try {
            int b = Integer.parseInt(v);
            if (b < 1 || b > 64) {
                throw new NumberFormatException();
            }
            return b;
        } catch (NumberFormatException e) {
            throw new InputException(file, line, field, "expected 1..64, got " + v);
        }
    }
}
