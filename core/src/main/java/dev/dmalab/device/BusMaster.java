package dev.dmalab.device;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.memory.PhysicalMemoryMap;
import dev.dmalab.util.Bits;
import java.util.Arrays;

/**
 * A device's DMA engine: reads and writes bus addresses the way the hardware would.
 *
 * <p>An access of {@code len} bytes is split at 4 KiB boundaries. Each piece's bus address is truncated to the
 * device's {@link Device#hardwareAddressBits()}, turned into a CPU physical address through the interconnect's
 * {@link DmaRangeMap} (identity when the device has none), and then reaches memory: through the CPU caches'
 * snoop if the device is coherent, straight to DRAM if it is not. A piece that reaches neither RAM nor MMIO is a
 * master abort: reads return all ones, writes are dropped, as on PCI.
 *
 * <p>The IOMMU issue adds translation between the bus address and the interconnect.
 */
public final class BusMaster {
    /** Outcome of an access. */
    public enum Status {
        OK,
        /** Nothing answered at the physical address (a hole): reads give 0xff, writes are lost. */
        MASTER_ABORT
    }

    private static final int PIECE = 4096;

    private final Device device;
    private final CacheSystem caches;
    private final PhysicalMemoryMap map;
    private BusObserver observer;
    private long bytesRead;
    private long bytesWritten;
    private long aborts;

    public BusMaster(Device device, CacheSystem caches, PhysicalMemoryMap map) {
        this.device = device;
        this.caches = caches;
        this.map = map;
    }

    public Device device() {
        return device;
    }

    public void setObserver(BusObserver observer) {
        this.observer = observer;
    }

    /** The physical address bus address {@code busAddr} reaches, or -1. */
    public long toPhys(long busAddr) {
        long bus =
                device.hardwareAddressBits() == 64 ? busAddr : busAddr & Bits.dmaBitMask(device.hardwareAddressBits());
        DmaRangeMap ranges = device.dmaRangeMap();
        long phys = ranges == null ? bus + device.dmaPfnOffsetBytes() : ranges.dmaToPhys(bus);
        return phys == Bits.U64_MAX || !map.isBacked(phys) ? -1 : phys;
    }

    /** The device reads {@code len} bytes at {@code busAddr} into {@code dst}. Returns the worst status met. */
    public Status read(long busAddr, byte[] dst, int off, int len) {
        Status worst = Status.OK;
        while (len > 0) {
            int n = Math.min(len, PIECE - (int) (busAddr & (PIECE - 1)));
            long phys = toPhys(busAddr);
            Status s;
            if (phys < 0) {
                Arrays.fill(dst, off, off + n, (byte) 0xff);
                s = Status.MASTER_ABORT;
                aborts++;
            } else {
                caches.deviceRead(phys, dst, off, n, device.dmaCoherent());
                s = Status.OK;
                bytesRead += n;
            }
            if (observer != null) {
                observer.onDeviceAccess(device, false, busAddr, phys, n, s);
            }
            if (s != Status.OK) {
                worst = s;
            }
            busAddr += n;
            off += n;
            len -= n;
        }
        return worst;
    }

    /** The device writes {@code src[off..off+len)} at {@code busAddr}. Returns the worst status met. */
    public Status write(long busAddr, byte[] src, int off, int len) {
        Status worst = Status.OK;
        while (len > 0) {
            int n = Math.min(len, PIECE - (int) (busAddr & (PIECE - 1)));
            long phys = toPhys(busAddr);
            Status s;
            if (phys < 0) {
                s = Status.MASTER_ABORT;
                aborts++;
            } else {
                caches.deviceWrite(phys, src, off, n, device.dmaCoherent());
                s = Status.OK;
                bytesWritten += n;
            }
            if (observer != null) {
                observer.onDeviceAccess(device, true, busAddr, phys, n, s);
            }
            if (s != Status.OK) {
                worst = s;
            }
            busAddr += n;
            off += n;
            len -= n;
        }
        return worst;
    }

    public long bytesRead() {
        return bytesRead;
    }

    public long bytesWritten() {
        return bytesWritten;
    }

    public long aborts() {
        return aborts;
    }
}
