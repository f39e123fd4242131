package dev.dmalab.device;

import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.util.Bits;

/**
 * The DMA-relevant part of {@code struct device} ({@code include/linux/device.h}, 4.20–6.12; spec §1.1).
 *
 * <p>Fields are named after the kernel's. A NULL pointer in the kernel is {@code null} here ({@link #dmaOps()},
 * {@link #archdataDevDmaOps()}, {@link #dmaMem()}); {@code dev->dma_mask} is a pointer too, modelled by {@link
 * #hasDmaMask()} plus the value.
 *
 * <p>Deliberate differences: {@code dma_parms} is embedded (its presence is {@link #hasDmaParms()}); {@code
 * bus_dma_mask} (≤5.4) and {@code bus_dma_limit} (5.5+) are one field with the later semantics, which are the
 * same for the values modelled.
 */
public final class Device {
    private final String name;
    private final BusType bus;
    private String driverName;
    private String pciId = "";

    private boolean hasDmaMask = true;
    private long dmaMask = Bits.dmaBitMask(32);
    private long coherentDmaMask = Bits.dmaBitMask(32);
    private long busDmaLimit;
    private DmaRangeMap dmaRangeMap;
    private long dmaPfnOffsetBytes;
    private boolean dmaCoherent;
    private DmaOps dmaOps;
    private DmaOps archdataDevDmaOps;
    private boolean dmaOpsBypass;

    private boolean hasDmaParms;
    private long maxSegmentSize;
    private long segmentBoundaryMask;
    private long minAlignMask;

    private boolean dmaSkipSync;
    private DmaCoherentMem dmaMem;
    private IoTlbMemRef dmaIoTlbMem;
    private boolean dmaUsesIoTlb;
    private int hardwareAddressBits = 64;
    private boolean dmaIommu;
    private IommuContext iommuContext;
    private boolean untrusted;
    private long bytesBouncedToDevice;
    private long bytesBouncedFromDevice;

    public Device(String name, BusType bus) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a device needs a name");
        }
        this.name = name;
        this.bus = bus;
    }

    /** {@code dev_name(dev)}: the name every dma:* trace line starts with (a PCI BDF, {@code fa000000.sata}). */
    public String name() {
        return name;
    }

    public BusType bus() {
        return bus;
    }

    /** The bound driver's name ({@code dev->driver->name}), or null. */
    public String driverName() {
        return driverName;
    }

    /** A PCI function's vendor:device ({@code 1095:3132}), or "" when unknown. */
    public String pciId() {
        return pciId;
    }

    public void setPciId(String pciId) {
        this.pciId = pciId == null ? "" : pciId;
    }

    public void setDriverName(String driverName) {
        this.driverName = driverName;
    }

    /** {@code dev_driver_string(dev)}: the bound driver's name, else the bus name. */
    public String driverString() {
        return driverName != null ? driverName : bus.kernelName();
    }

    /** The prefix {@code dev_printk} puts before a message: {@code "nvme 0000:00:03.0: "}. */
    public String logPrefix() {
        return driverString() + " " + name + ": ";
    }

    /** Whether {@code dev->dma_mask} points somewhere; a device without it cannot do DMA. */
    public boolean hasDmaMask() {
        return hasDmaMask;
    }

    /** {@code *dev->dma_mask}; meaningless if {@link #hasDmaMask()} is false. */
    public long dmaMask() {
        return dmaMask;
    }

    public void setDmaMask(long dmaMask) {
        this.dmaMask = dmaMask;
        this.hasDmaMask = true;
    }

    public void clearDmaMaskPointer() {
        this.hasDmaMask = false;
    }

    public long coherentDmaMask() {
        return coherentDmaMask;
    }

    public void setCoherentDmaMask(long coherentDmaMask) {
        this.coherentDmaMask = coherentDmaMask;
    }

    /** {@code dev->bus_dma_limit}: the upstream interconnect's limit, 0 for none. */
    public long busDmaLimit() {
        return busDmaLimit;
    }

    public void setBusDmaLimit(long busDmaLimit) {
        this.busDmaLimit = busDmaLimit;
    }

    /** {@code dev->dma_range_map}, or null for an identity mapping. */
    public DmaRangeMap dmaRangeMap() {
        return dmaRangeMap;
    }

    public void setDmaRangeMap(DmaRangeMap dmaRangeMap) {
        this.dmaRangeMap = dmaRangeMap;
    }

    /**
     * {@code dev->dma_pfn_offset << PAGE_SHIFT} (≤ 5.9): the linear CPU-to-bus offset of kernels without {@code
     * dma_range_map}; {@code bus = phys - offset} for every address, inside the firmware's range or not.
     */
    public long dmaPfnOffsetBytes() {
        return dmaPfnOffsetBytes;
    }

    public void setDmaPfnOffsetBytes(long offset) {
        this.dmaPfnOffsetBytes = offset;
    }

    /** {@code dev_is_dma_coherent(dev)}: the device snoops CPU caches. */
    public boolean dmaCoherent() {
        return dmaCoherent;
    }

    public void setDmaCoherent(boolean dmaCoherent) {
        this.dmaCoherent = dmaCoherent;
    }

    /** {@code dev->dma_ops}; null means dma-direct from 5.0 on. */
    public DmaOps dmaOps() {
        return dmaOps;
    }

    public void setDmaOps(DmaOps dmaOps) {
        this.dmaOps = dmaOps;
    }

    /** {@code dev->archdata.dev_dma_ops} (arm/arm64 with CONFIG_XEN, until the fixes): the saved native ops. */
    public DmaOps archdataDevDmaOps() {
        return archdataDevDmaOps;
    }

    public void setArchdataDevDmaOps(DmaOps ops) {
        this.archdataDevDmaOps = ops;
    }

    /** {@code dev->dma_ops_bypass} (5.10+). */
    public boolean dmaOpsBypass() {
        return dmaOpsBypass;
    }

    public void setDmaOpsBypass(boolean dmaOpsBypass) {
        this.dmaOpsBypass = dmaOpsBypass;
    }

    /** Whether {@code dev->dma_parms} is set (PCI and platform devices have one). */
    public boolean hasDmaParms() {
        return hasDmaParms;
    }

    /** {@code dma_parms->max_segment_size}, 0 if unset. */
    public long maxSegmentSize() {
        return maxSegmentSize;
    }

    /** {@code dma_parms->segment_boundary_mask}, 0 if unset. */
    public long segmentBoundaryMask() {
        return segmentBoundaryMask;
    }

    /** {@code dma_parms->min_align_mask}, 0 if unset (NVMe sets 0xfff). */
    public long minAlignMask() {
        return minAlignMask;
    }

    /** Gives the device a {@code dma_parms} with the given values (0 = unset). */
    public void setDmaParms(long maxSegmentSize, long segmentBoundaryMask, long minAlignMask) {
        this.hasDmaParms = true;
        this.maxSegmentSize = maxSegmentSize;
        this.segmentBoundaryMask = segmentBoundaryMask;
        this.minAlignMask = minAlignMask;
    }

    public void setMaxSegmentSize(long maxSegmentSize) {
        requireParms();
        this.maxSegmentSize = maxSegmentSize;
    }

    public void setSegmentBoundaryMask(long mask) {
        requireParms();
        this.segmentBoundaryMask = mask;
    }

    public void setMinAlignMask(long mask) {
        requireParms();
        this.minAlignMask = mask;
    }

    private void requireParms() {
        if (!hasDmaParms) {
            throw new IllegalStateException(name + " has no dma_parms");
        }
    }

    /** {@code dev->dma_skip_sync} (6.11+). */
    public boolean dmaSkipSync() {
        return dmaSkipSync;
    }

    public void setDmaSkipSync(boolean dmaSkipSync) {
        this.dmaSkipSync = dmaSkipSync;
    }

    /** {@code dev->dma_mem}: the per-device coherent pool, or null. */
    public DmaCoherentMem dmaMem() {
        return dmaMem;
    }

    public void setDmaMem(DmaCoherentMem dmaMem) {
        this.dmaMem = dmaMem;
    }

    /** {@code dev->dma_io_tlb_mem}: the swiotlb the device bounces through, or null. */
    public IoTlbMemRef dmaIoTlbMem() {
        return dmaIoTlbMem;
    }

    public void setDmaIoTlbMem(IoTlbMemRef mem) {
        this.dmaIoTlbMem = mem;
    }

    /** {@code dev->dma_uses_io_tlb} (6.6+): the device has bounced at least once. */
    public boolean dmaUsesIoTlb() {
        return dmaUsesIoTlb;
    }

    public void setDmaUsesIoTlb(boolean uses) {
        this.dmaUsesIoTlb = uses;
    }

    /**
     * How many address bits the device's DMA engine really drives. A bus address wider than this is truncated by
     * the hardware — what happens when a driver bypasses the mask. Defaults to 64.
     */
    public int hardwareAddressBits() {
        return hardwareAddressBits;
    }

    public void setHardwareAddressBits(int bits) {
        if (bits < 1 || bits > 64) {
            throw new IllegalArgumentException("hardware address bits out of range [1, 64]: " + bits);
        }
        this.hardwareAddressBits = bits;
    }

    /** {@code dev->dma_iommu} (6.12): the device is attached to a dma-iommu domain and dispatches to it. */
    public boolean dmaIommu() {
        return dmaIommu;
    }

    public void setDmaIommu(boolean dmaIommu) {
        this.dmaIommu = dmaIommu;
    }

    /**
     * Counts a swiotlb bounce copy for this device (a model statistic, not a {@code struct device} field): {@code
     * toDevice} for a copy into the bounce buffer, otherwise out of it.
     */
    public void countBounce(boolean toDevice, long bytes) {
        if (toDevice) {
            bytesBouncedToDevice += bytes;
        } else {
            bytesBouncedFromDevice += bytes;
        }
    }

    /** Bytes swiotlb copied into bounce buffers for this device (for the device to read). */
    public long bytesBouncedToDevice() {
        return bytesBouncedToDevice;
    }

    /** Bytes swiotlb copied out of bounce buffers for this device (what the device wrote). */
    public long bytesBouncedFromDevice() {
        return bytesBouncedFromDevice;
    }

    @Override
    public String toString() {
        return name;
    }

    /** The device's context in the IOMMU it sits behind ({@code dev->iommu}), or null when there is none. */
    public IommuContext iommuContext() {
        return iommuContext;
    }

    public void setIommuContext(IommuContext iommuContext) {
        this.iommuContext = iommuContext;
    }

    /**
     * {@code dev_is_untrusted(dev)}: a PCI device behind an external-facing port ({@code pci_dev->untrusted}); dma-iommu
     * bounces its sub-granule buffers through swiotlb so it cannot see neighbouring data.
     */
    public boolean untrusted() {
        return untrusted;
    }

    public void setUntrusted(boolean untrusted) {
        this.untrusted = untrusted;
    }
}
