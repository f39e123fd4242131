package dev.dmalab.device;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.iommuhw.IommuContext;
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
 * <p>A device behind an IOMMU ({@link Device#iommuContext()} set) has every piece translated by it instead of the
 * range map: an access the IOMMU refuses touches nothing (reads return all ones, writes are dropped) and is an
 * {@link Status#IOMMU_FAULT}, recorded in the unit's fault log.
 */
public final class BusMaster {
    /** Outcome of an access. */
    public enum Status {
        OK,
        /** Nothing answered at the physical address (a hole): reads give 0xff, writes are lost. */
        MASTER_ABORT,
        /** The IOMMU refused the access (no mapping, or no permission): reads give 0xff, writes are lost. */
        IOMMU_FAULT
    }

    private static final int PIECE = 4096;

    private final Device device;
    private final CacheSystem caches;
    private final PhysicalMemoryMap map;
    private BusObserver observer;
    private long bytesRead;
    private long bytesWritten;
    private long aborts;
    private long iommuFaults;

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

    /**
     * The physical address a read at bus address {@code busAddr} reaches, or -1 (an IOMMU fault is recorded as for
     * a real access).
     */
    public long toPhys(long busAddr) {
        return toPhys(busAddr, false);
    }

    /** The physical address an access at {@code busAddr} reaches; -1 for a hole, -2 for an IOMMU fault. */
    private long toPhys(long busAddr, boolean write) {
        long bus =
                device.hardwareAddressBits() == 64 ? busAddr : busAddr & Bits.dmaBitMask(device.hardwareAddressBits());
        IommuContext iommu = device.iommuContext();
        if (iommu != null) {
            long phys = iommu.translate(bus, write);
            if (phys == -1) {
                return -2;
            }
            return map.isBacked(phys) ? phys : -1;
        }
        DmaRangeMap ranges = device.dmaRangeMap();
        long phys = ranges == null ? bus + device.dmaPfnOffsetBytes() : ranges.dmaToPhys(bus);
        return phys == Bits.U64_MAX || !map.isBacked(phys) ? -1 : phys;
    }

    /** The device reads {@code len} bytes at {@code busAddr} into {@code dst}. Returns the worst status met. */
    public Status read(long busAddr, byte[] dst, int off, int len) {
        Status worst = Status.OK;
        if (observer != null) {
            observer.onDeviceAccessStart(device, false, busAddr, len);
        }
        while (len > 0) {
            int n = Math.min(len, PIECE - (int) (busAddr & (PIECE - 1)));
            long phys = toPhys(busAddr, false);
            Status s;
            if (phys < 0) {
                Arrays.fill(dst, off, off + n, (byte) 0xff);
                s = failed(phys);
            } else {
                caches.deviceRead(phys, dst, off, n, device.dmaCoherent());
                s = Status.OK;
                bytesRead += n;
            }
            if (observer != null) {
                observer.onDeviceAccess(device, false, busAddr, Math.max(phys, -1), n, s);
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
        if (observer != null) {
            observer.onDeviceAccessStart(device, true, busAddr, len);
        }
        while (len > 0) {
            int n = Math.min(len, PIECE - (int) (busAddr & (PIECE - 1)));
            long phys = toPhys(busAddr, true);
            Status s;
            if (phys < 0) {
                s = failed(phys);
            } else {
                caches.deviceWrite(phys, src, off, n, device.dmaCoherent());
                s = Status.OK;
                bytesWritten += n;
            }
            if (observer != null) {
                observer.onDeviceAccess(device, true, busAddr, Math.max(phys, -1), n, s);
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

    private Status failed(long phys) {
        if (phys == -2) {
            iommuFaults++;
            return Status.IOMMU_FAULT;
        }
        aborts++;
        return Status.MASTER_ABORT;
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

    /** Pieces the IOMMU refused. */
    public long iommuFaults() {
        return iommuFaults;
    }
}
