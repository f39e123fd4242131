package dev.dmalab.driver;

import dev.dmalab.device.BusMaster;
import dev.dmalab.device.Device;
import dev.dmalab.memory.MemoryContents;

/**
 * The Silicon Image SiI3124/3132 SATA controller itself — the device side of {@code sata_sil24} — reduced to what
 * DMA needs: when the driver activates a command slot with the 64-bit bus address of a command block, the
 * controller DMA-reads the port request block (PRB: {@code ctrl}, {@code prot}, {@code rx_cnt}, a 20-byte Register
 * H2D FIS) and its scatter/gather entries (16 bytes each: le64 address, le32 count, le32 flags, the last one marked
 * {@code SGE_TRM}), then moves the data: a WRITE DMA EXT DMA-reads the buffers into the disk, a READ DMA EXT DMA-writes
 * the disk into them. All its accesses go through its {@link BusMaster}, i.e. through the interconnect as the bus
 * address says, snooping the CPU caches only if the device is coherent.
 *
 * <p>Each port has a disk (sparse; unwritten sectors read as zeros). Command errors use the controller's {@code
 * PORT_CERR_*} codes.
 *
 * <p>Deliberate differences: no registers, LRAM, interrupts, PRB chunk prefetch, SGT links, ATAPI or NCQ; commands
 * execute synchronously at activation.
 */
public final class Sil3132 {
    public static final int SECTOR = 512;
    /** {@code PORT_CERR_DEV}: the device reported an error (unsupported command, LBA out of range). */
    public static final int CERR_DEV = 1;
    /** {@code PORT_CERR_SDB}... here: ran out of SGEs before the transfer was complete (underrun/overrun). */
    public static final int CERR_UNDERRUN = 7;

    public static final int CERR_OVERRUN = 8;
    /** {@code PORT_CERR_SGT_MSTABRT}: master abort while fetching scatter/gather entries. */
    public static final int CERR_SGT_MSTABRT = 17;
    /** {@code PORT_CERR_CMD_BOUNDARY}: the PRB is not 8-byte aligned. */
    public static final int CERR_CMD_BOUNDARY = 24;
    /** {@code PORT_CERR_CMD_MSTABRT}: master abort while fetching the PRB. */
    public static final int CERR_CMD_MSTABRT = 26;
    /** {@code PORT_CERR_XFR_MSTABRT}: master abort during the data transfer. */
    public static final int CERR_XFR_MSTABRT = 33;

    static final int SGE_TRM = 1 << 31;
    static final int ATA_CMD_READ_EXT = 0x25;
    static final int ATA_CMD_WRITE_EXT = 0x35;
    private static final int MAX_SGES = 4096;

    private final Device dev;
    private final BusMaster bus;
    private final MemoryContents[] disks;
    private final long sectorsPerDisk;
    private long commands;
    private long bytesTransferred;
    private int lastError;

    /**
     * @param ports the controller's ports (SiI3132: 2)
     * @param sectorsPerDisk the capacity of the disk on each port
     */
    public Sil3132(Device dev, BusMaster bus, int ports, long sectorsPerDisk) {
        this.dev = dev;
        this.bus = bus;
        this.disks = new MemoryContents[ports];
        for (int i = 0; i < ports; i++) {
            disks[i] = new MemoryContents();
        }
        this.sectorsPerDisk = sectorsPerDisk;
    }

    public Device device() {
        return dev;
    }

    public int ports() {
        return disks.length;
    }

    /** Commands executed so far. */
    public long commands() {
        return commands;
    }

    /** Data bytes moved by DMA so far. */
    public long bytesTransferred() {
        return bytesTransferred;
    }

    /** The error code of the last failed command (0 if none failed). */
    public int lastError() {
        return lastError;
    }

    /** The disk's contents ({@code bytes} from sector {@code lba} of the disk on {@code port}). */
    public byte[] disk(int port, long lba, int bytes) {
        byte[] b = new byte[bytes];
        disks[port].read(lba * SECTOR, b, 0, bytes);
        return b;
    }

    private static long le(byte[] b, int off, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    /**
     * The 64-bit activation of {@code slot} on {@code port} with the command block at {@code busAddr}: executes the
     * command.
     *
     * @return 0, or a {@code PORT_CERR_*} code
     */
    public int activate(int port, int slot, long busAddr) {
        commands++;
        int rc = execute(port, busAddr);
        if (rc != 0) {
            lastError = rc;
        }
        return rc;
    }

    private int execute(int port, long busAddr) {
        if ((busAddr & 7) != 0) {
            return CERR_CMD_BOUNDARY;
        }
        byte[] prb = new byte[32];
        if (bus.read(busAddr, prb, 0, 32) != BusMaster.Status.OK) {
            return CERR_CMD_MSTABRT;
        }
        int fisType = prb[8] & 0xff;
        int command = prb[10] & 0xff;
        long lba = le(prb, 12, 3) | (le(prb, 16, 3) << 24);
        long count = le(prb, 20, 2);
        if (count == 0) {
            count = 65536;
        }
        if (fisType != 0x27 || (command != ATA_CMD_READ_EXT && command != ATA_CMD_WRITE_EXT)) {
            return CERR_DEV;
        }
        if (lba + count > sectorsPerDisk) {
            return CERR_DEV;
        }
        boolean write = command == ATA_CMD_WRITE_EXT;
        long remaining = count * SECTOR;
        long diskAt = lba * SECTOR;
        byte[] sge = new byte[16];
        for (int i = 0; i < MAX_SGES && remaining > 0; i++) {
            if (bus.read(busAddr + 32 + 16L * i, sge, 0, 16) != BusMaster.Status.OK) {
                return CERR_SGT_MSTABRT;
            }
            long addr = le(sge, 0, 8);
            long cnt = le(sge, 8, 4);
            int flags = (int) le(sge, 12, 4);
            long n = Math.min(cnt, remaining);
            byte[] data = new byte[(int) n];
            if (write) {
                if (bus.read(addr, data, 0, (int) n) != BusMaster.Status.OK) {
                    return CERR_XFR_MSTABRT;
                }
                disks[port].write(diskAt, data, 0, (int) n);
            } else {
                disks[port].read(diskAt, data, 0, (int) n);
                if (bus.write(addr, data, 0, (int) n) != BusMaster.Status.OK) {
                    return CERR_XFR_MSTABRT;
                }
            }
            bytesTransferred += n;
            diskAt += n;
            remaining -= n;
            if ((flags & SGE_TRM) != 0) {
                break;
            }
        }
        if (remaining > 0) {
            return write ? CERR_UNDERRUN : CERR_OVERRUN;
        }
        return 0;
    }
}
