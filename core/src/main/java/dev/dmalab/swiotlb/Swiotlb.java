package dev.dmalab.swiotlb;

import dev.dmalab.arch.Arch;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaEvents;
import dev.dmalab.dma.DmaParams;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.Printk;
import dev.dmalab.util.Bits;

/**
 * The swiotlb operations of {@code kernel/dma/swiotlb.c} (spec §3, corrected by {@code validated-swiotlb.md}):
 * map, unmap, syncs and bounce copies for the two generations the built-in kernels need.
 *
 * <ul>
 *   <li><b>6.12</b> ({@link Feature#SWIOTLB_ALIGN_TWO_TEST}): {@code swiotlb_tbl_map_single(dev, orig,
 *       mapping_size, alloc_align_mask, dir, attrs)} with the per-area search, {@code min_align_mask} offset and
 *       pad slots; the bounce is always filled on map; unmap frees from the stored {@code alloc_size}; {@code
 *       swiotlb_bounce} clips an over-long copy with a one-time WARN.
 *   <li><b>4.20–5.4</b>: the global-index search with the caller's {@code tbl_dma_addr}; no offset is kept; the
 *       bounce is filled on map only for TO_DEVICE/BIDIRECTIONAL without SKIP_CPU_SYNC; unmap frees the caller's
 *       size.
 * </ul>
 *
 * Kernels between those (5.12–6.8, with the min_align but not the 6.9 search) are not modelled; constructing this
 * class for one fails loudly.
 *
 * <p>Bounce copies are CPU {@code memcpy}s through the linear map on the current CPU, so on a non-coherent machine
 * they go through the modelled caches exactly as the kernel's do; the arch clean that follows on map is what makes
 * them visible to the device.
 *
 * <p>Deliberate differences: no dynamic pools, no restricted pools (per-device {@code io_tlb_mem}), no memory
 * encryption notice; the {@code swiotlb_bounced} event's force field is a boolean in every version (5.0's enum
 * prints NO_FORCE as FORCE/NORMAL by its meaning).
 */
public final class Swiotlb {
    /** {@code IO_TLB_SEGSIZE * IO_TLB_SIZE}: the largest bounce, 256 KiB. */
    public static final long MAX_SEGMENT_BYTES = (long) IoTlbPool.IO_TLB_SEGSIZE * IoTlbPool.IO_TLB_SIZE;

    private final Kernel kernel;
    private final CpuMemory cpu;
    private final DmaEvents events;
    private final Arch arch;
    private IoTlbMem mem;
    private final boolean modern;
    private final boolean minAlignSupported;
    private final boolean boundaryAllOnes;
    private final boolean skipSync;
    private final long pageSize;
    private long bouncedMaps;
    private long failedMaps;
    private long unreachableBounces;
    private long bytesToBounce;
    private long bytesFromBounce;

    public Swiotlb(Kernel kernel, CpuMemory cpu, DmaEvents events, Arch arch, IoTlbMem mem) {
        this.kernel = kernel;
        this.cpu = cpu;
        this.events = events;
        this.arch = arch;
        this.mem = mem;
        this.modern = kernel.has(Feature.SWIOTLB_ALIGN_TWO_TEST);
        this.minAlignSupported = kernel.has(Feature.SWIOTLB_MIN_ALIGN);
        this.boundaryAllOnes = kernel.has(Feature.SEG_BOUNDARY_DEFAULT_ALL_ONES);
        this.skipSync = kernel.has(Feature.DMA_SKIP_SYNC);
        if (!modern && kernel.has(Feature.SWIOTLB_MIN_ALIGN)) {
            throw new IllegalStateException("the swiotlb slot search of " + kernel.version() + " is not modelled");
        }
        if (!modern && mem.defpool() != null && mem.defpool().nareas() != 1) {
            throw new IllegalArgumentException(kernel.version() + " has no swiotlb areas");
        }
        this.pageSize = cpu.addressSpace().pageSize().bytes();
    }

    /** The default {@code io_tlb_mem}. */
    public IoTlbMem defaultMem() {
        return mem;
    }

    /**
     * Replaces the default instance before devices are attached: 5.x swiotlb-xen's late pool takes over the
     * generic swiotlb's globals ({@code swiotlb_late_init_with_tbl}); 5.19+ {@code swiotlb_init_late} builds one
     * where there was none.
     */
    public void setDefaultMem(IoTlbMem mem) {
        if (!this.modern && mem.defpool() != null && mem.defpool().nareas() != 1) {
            throw new IllegalArgumentException(kernel.version() + " has no swiotlb areas");
        }
        this.mem = mem;
    }

    /** {@code swiotlb_dev_init}: points the device at the default instance. */
    public void attach(Device dev) {
        dev.setDmaIoTlbMem(mem);
    }

    private IoTlbMem memOf(Device dev) {
        return dev.dmaIoTlbMem() instanceof IoTlbMem m ? m : null;
    }

    /** {@code swiotlb_find_pool(dev, paddr)} (6.12) / {@code is_swiotlb_buffer} (5.0): the pool holding paddr. */
    public IoTlbPool findPool(Device dev, long paddr) {
        IoTlbMem m = memOf(dev);
        if (m == null || m.defpool() == null) {
            return null;
        }
        return m.defpool().contains(paddr) ? m.defpool() : null;
    }

    /** {@code is_swiotlb_force_bounce(dev)}. */
    public boolean isForceBounce(Device dev) {
        IoTlbMem m = memOf(dev);
        return m != null && m.forceBounce();
    }

    /** {@code is_swiotlb_active(dev)}: the device has a swiotlb with slots. */
    public boolean isActive(Device dev) {
        IoTlbMem m = memOf(dev);
        return m != null && m.nslabs() > 0 && m.force() != IoTlbMem.ForceMode.NO_FORCE;
    }

    /** {@code swiotlb_max_mapping_size(dev)}: 256 KiB less {@code roundup(min_align_mask, 2 KiB)}. */
    public long maxMappingSize(Device dev) {
        long minAlign = minAlign(dev);
        long minAlignBytes = minAlign == 0 ? 0 : Bits.roundUp(minAlign, IoTlbPool.IO_TLB_SIZE);
        return MAX_SEGMENT_BYTES - minAlignBytes;
    }

    /** {@code dma_get_min_align_mask(dev)} for this version (same rule as {@link DmaParams#minAlignMask}). */
    private long minAlign(Device dev) {
        return minAlignSupported && dev.hasDmaParms() ? dev.minAlignMask() : 0;
    }

    /** {@code dma_get_seg_boundary(dev)} for this version (same rule as {@link DmaParams#segmentBoundary}). */
    private long boundary(Device dev) {
        if (dev.hasDmaParms() && dev.segmentBoundaryMask() != 0) {
            return dev.segmentBoundaryMask();
        }
        return boundaryAllOnes ? Bits.U64_MAX : 0xffffffffL;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Map

    /**
     * {@code swiotlb_map} (5.10+ form, used by 6.12 dma-direct): trace {@code swiotlb_bounced}, bounce, check the
     * bounce address against the device's mask, clean it for a non-coherent device.
     *
     * @return the bus address of the bounce buffer, or all ones
     */
    @KernelFunction("swiotlb_map")
    public long map(Device dev, long paddr, long size, Direction dir, long attrs) {
        emitBounced(dev, DmaAddress.physToDma(dev, paddr), size);
        long tlb = tblMapSingle(dev, paddr, size, 0, dir, attrs);
        if (tlb == Bits.U64_MAX) {
            return Bits.U64_MAX;
        }
        long dma = DmaAddress.physToDmaUnencrypted(dev, tlb);
        if (!DmaAddress.dmaCapable(dev, dma, size, true)) {
            unreachableBounces++;
            tblUnmapSingle(dev, tlb, size, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
            kernel.printk()
                    .warnOnce(
                            "swiotlb_map:overflow",
                            "kernel/dma/swiotlb.c swiotlb_map",
                            dev.logPrefix() + "swiotlb addr " + Bits.hex16(dma) + "+" + size + " overflow (mask "
                                    + Bits.hex(dev.dmaMask()) + ", bus limit " + Bits.hex(dev.busDmaLimit()) + ").");
            return Bits.U64_MAX;
        }
        if (!dev.dmaCoherent() && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            arch.syncDmaForDevice(tlb, size, dir);
        }
        return dma;
    }

    /**
     * {@code swiotlb_map} of 4.20–5.9 (bool, rewrites phys and dma in place): trace, refuse under {@code
     * swiotlb=noforce}, bounce, check the bounce address.
     *
     * @param physDma in/out: {@code [0]} the buffer's phys (replaced by the bounce phys), {@code [1]} its bus
     *     address (replaced by the bounce's)
     * @param tblDmaAddr the pool's bus address as the caller computes it
     */
    @KernelFunction("swiotlb_map")
    public boolean map50(Device dev, long[] physDma, long tblDmaAddr, long size, Direction dir, long attrs) {
        emitBounced(dev, physDma[1], size);
        IoTlbMem m = memOf(dev);
        if (m == null || m.force() == IoTlbMem.ForceMode.NO_FORCE) {
            if (kernel.printk().ratelimit("swiotlb_map:noforce", "swiotlb_map")) {
                kernel.printk()
                        .dev(
                                Printk.Level.WARNING,
                                dev.driverString(),
                                dev.name(),
                                "Cannot do DMA to address " + Bits.hex16(physDma[0]));
            }
            return false;
        }
        long tlb = tblMapSingle50(dev, tblDmaAddr, physDma[0], size, dir, attrs);
        physDma[0] = tlb; // *phys = swiotlb_tbl_map_single(...), the error value included
        if (tlb == Bits.U64_MAX) {
            return false;
        }
        long dma = DmaAddress.physToDma(dev, tlb);
        physDma[1] = dma; // *dma_addr is rewritten before the check, so report_addr names the bounce address
        if (!DmaAddress.dmaCapable(dev, dma, size, true)) {
            unreachableBounces++;
            tblUnmapSingle(dev, tlb, size, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
            return false;
        }
        return true;
    }

    /** Fires {@code swiotlb:swiotlb_bounced} (before the slot search, so also for a map that then fails). */
    public void emitBounced(Device dev, long devAddr, long size) {
        if (events.active()) {
            events.emitSwiotlbBounced(
                    dev, true, dev.hasDmaMask() ? dev.dmaMask() : 0, devAddr, size, isForceBounce(dev));
        }
    }

    /**
     * {@code swiotlb_tbl_map_single} (6.10+ signature): takes slots, records the original address, fills the
     * bounce buffer.
     *
     * @return the bounce buffer's physical address ({@code tlb_addr}), or all ones
     */
    @KernelFunction("swiotlb_tbl_map_single")
    public long tblMapSingle(Device dev, long orig, long mappingSize, long allocAlignMask, Direction dir, long attrs) {
        if (!modern) {
            throw new IllegalStateException("swiotlb_tbl_map_single(dev, orig, ...) is the 6.10+ form");
        }
        IoTlbMem m = memOf(dev);
        if (m == null || m.nslabs() == 0) {
            if (kernel.printk().ratelimit("swiotlb_tbl_map_single:nopool", "swiotlb_tbl_map_single")) {
                kernel.printk()
                        .dev(
                                Printk.Level.WARNING,
                                dev.driverString(),
                                dev.name(),
                                "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA"
                                        + " bounce buffer");
            }
            return Bits.U64_MAX;
        }
        if (Bits.ult(pageSize - 1, allocAlignMask)) {
            kernel.printk()
                    .warnOnce(
                            "swiotlb_tbl_map_single:align",
                            "kernel/dma/swiotlb.c swiotlb_tbl_map_single",
                            dev.logPrefix() + "Alloc alignment may prevent fulfilling requests with max mapping_size");
        }
        IoTlbPool pool = m.defpool();
        long minAlign = minAlign(dev);
        long offset = orig & minAlign & (allocAlignMask | (IoTlbPool.IO_TLB_SIZE - 1));
        long size = Bits.alignUp(mappingSize + offset, allocAlignMask + 1);
        long boundary = boundary(dev);
        long tblDma = DmaAddress.physToDmaUnencrypted(dev, pool.start()) & boundary;
        int index = pool.findSlots(
                kernel.context().cpu(), tblDma, boundary, minAlign, orig, size, allocAlignMask, pageSize);
        if (index < 0) {
            failedMaps++;
            explainFull(size);
            if (!DmaAttrs.has(attrs, DmaAttrs.NO_WARN) && kernel.printk().ratelimit("swiotlb_tbl_map_single")) {
                kernel.printk()
                        .dev(
                                Printk.Level.WARNING,
                                dev.driverString(),
                                dev.name(),
                                "swiotlb buffer is full (sz: " + size + " bytes), total " + m.nslabs()
                                        + " (slots), used " + m.used() + " (slots)");
            }
            return Bits.U64_MAX;
        }
        m.incUsed(IoTlbPool.nrSlots(size));
        bouncedMaps++;
        if (skipSync && dev.dmaSkipSync()) {
            dev.setDmaSkipSync(false); // dma_reset_need_sync
        }
        int pad = (int) (offset >>> IoTlbPool.IO_TLB_SHIFT);
        offset &= IoTlbPool.IO_TLB_SIZE - 1;
        index += pad;
        pool.recordOrig(index, pad, orig, size);
        long tlb = pool.slotAddr(index) + offset;
        bounce(dev, tlb, mappingSize, Direction.TO_DEVICE, pool);
        explainBounce(tlb, orig, mappingSize);
        return tlb;
    }

    private void explainBounce(long tlb, long orig, long size) {
        if (kernel.paths().enabled()) {
            kernel.paths()
                    .note("swiotlb: " + size + " bytes at phys " + Bits.hex0x(orig) + " bounced to slot phys "
                            + Bits.hex0x(tlb));
        }
    }

    private void explainFull(long size) {
        if (kernel.paths().enabled()) {
            kernel.paths().note("swiotlb: no free slots for " + size + " bytes (buffer is full)");
        }
    }

    /**
     * {@code swiotlb_tbl_map_single(hwdev, tbl_dma_addr, orig_addr, size, dir, attrs)} of 4.20–5.11.
     *
     * @return the bounce buffer's physical address (2 KiB aligned), or all ones
     */
    @KernelFunction("swiotlb_tbl_map_single")
    public long tblMapSingle50(Device dev, long tblDmaAddr, long orig, long size, Direction dir, long attrs) {
        IoTlbMem m = memOf(dev);
        if (m != null && m.allocationFailed()) {
            throw panic("Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer");
        }
        IoTlbPool pool = m == null ? null : m.defpool();
        if (pool == null && !kernel.has(Feature.SWIOTLB_USED_COUNT)) {
            // swiotlb never initialised (x86 with all RAM below 4 GiB) leaves no_iotlb_memory false; 5.0 then reads
            // io_tlb_list[0] of a table that was never allocated.
            kernel.deref(pool, 0);
        }
        // From 5.1 the "too few free slots" test (nslots > 0 - 0) sends a pool-less search straight to not_found.
        int index = pool == null
                ? -1
                : pool.searchGlobal(tblDmaAddr, boundary(dev), size, pageSize, kernel.has(Feature.SWIOTLB_USED_COUNT));
        if (index < 0) {
            failedMaps++;
            explainFull(size);
            String site = kernel.has(Feature.SWIOTLB_FULL_MESSAGE_PER_SITE_RATELIMIT)
                    ? "swiotlb_tbl_map_single"
                    : "printk_ratelimit";
            if (!DmaAttrs.has(attrs, DmaAttrs.NO_WARN) && kernel.printk().ratelimit(site, "swiotlb_tbl_map_single")) {
                String text = "swiotlb buffer is full (sz: " + size + " bytes)";
                if (kernel.has(Feature.SWIOTLB_FULL_MESSAGE_TOTALS)) {
                    long nslabs = m == null ? 0 : m.nslabs();
                    long used = m == null ? 0 : m.used();
                    text += ", total " + nslabs + " (slots), used " + used + " (slots)";
                }
                kernel.printk().dev(Printk.Level.WARNING, dev.driverString(), dev.name(), text);
            }
            return Bits.U64_MAX;
        }
        m.incUsed(Bits.alignUp(size, IoTlbPool.IO_TLB_SIZE) >>> IoTlbPool.IO_TLB_SHIFT);
        bouncedMaps++;
        pool.recordOrig50(index, orig, size);
        long tlb = pool.slotAddr(index);
        boolean copy = kernel.has(Feature.SWIOTLB_COPY_ON_MAP_ALWAYS)
                || (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC) && dir.deviceReads());
        if (copy) {
            copy(dev, tlb, orig, size, Direction.TO_DEVICE);
        }
        explainBounce(tlb, orig, size);
        return tlb;
    }

    private KernelOops panic(String message) {
        kernel.printk().log(Printk.Level.EMERG, "Kernel panic - not syncing: " + message);
        return kernel.bug("kernel/dma/swiotlb.c (panic: " + message + ")");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Unmap and sync

    /**
     * {@code swiotlb_tbl_unmap_single}: copies back (FROM_DEVICE/BIDIRECTIONAL without SKIP_CPU_SYNC) and frees the
     * slots. Does nothing if {@code tlb} is not in a pool (the 6.12 inline wrapper).
     */
    @KernelFunction("__swiotlb_tbl_unmap_single")
    public void tblUnmapSingle(Device dev, long tlb, long mappingSize, Direction dir, long attrs) {
        IoTlbPool pool = findPool(dev, tlb);
        if (pool == null) {
            return;
        }
        if (kernel.paths().enabled()) {
            kernel.paths().note("swiotlb: slot phys " + Bits.hex0x(tlb) + " released");
        }
        IoTlbMem m = memOf(dev);
        boolean copyBack = !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC) && dir.deviceWrites();
        if (modern) {
            if (copyBack) {
                bounce(dev, tlb, mappingSize, Direction.FROM_DEVICE, pool);
            }
            m.decUsed(pool.release(tlb, minAlign(dev)));
        } else {
            long orig = pool.origAddr(pool.slotOf(tlb));
            if (copyBack && orig != IoTlbPool.INVALID_PHYS_ADDR) {
                copy(dev, orig, tlb, mappingSize, Direction.FROM_DEVICE);
            }
            m.decUsed(pool.release50(tlb, mappingSize));
        }
    }

    /** {@code swiotlb_sync_single_for_device}: refills the bounce for TO_DEVICE/BIDIRECTIONAL. */
    @KernelFunction("__swiotlb_sync_single_for_device")
    public void syncSingleForDevice(Device dev, long tlb, long size, Direction dir) {
        IoTlbPool pool = findPool(dev, tlb);
        if (pool == null) {
            return;
        }
        if (dir.deviceReads()) {
            copyForSync(dev, tlb, size, Direction.TO_DEVICE, pool);
        } else if (dir != Direction.FROM_DEVICE) {
            throw kernel.bug("kernel/dma/swiotlb.c");
        }
    }

    /** {@code swiotlb_sync_single_for_cpu}: copies the bounce back for FROM_DEVICE/BIDIRECTIONAL. */
    @KernelFunction("__swiotlb_sync_single_for_cpu")
    public void syncSingleForCpu(Device dev, long tlb, long size, Direction dir) {
        IoTlbPool pool = findPool(dev, tlb);
        if (pool == null) {
            return;
        }
        if (dir.deviceWrites()) {
            copyForSync(dev, tlb, size, Direction.FROM_DEVICE, pool);
        } else if (dir != Direction.TO_DEVICE) {
            throw kernel.bug("kernel/dma/swiotlb.c");
        }
    }

    private void copyForSync(Device dev, long tlb, long size, Direction copyDir, IoTlbPool pool) {
        if (modern) {
            bounce(dev, tlb, size, copyDir, pool);
            return;
        }
        // 5.0 swiotlb_tbl_sync_single: orig of the slot plus the offset within the slot; silent if unused.
        long orig = pool.origAddr(pool.slotOf(tlb));
        if (orig == IoTlbPool.INVALID_PHYS_ADDR) {
            return;
        }
        orig += tlb & (IoTlbPool.IO_TLB_SIZE - 1);
        if (copyDir == Direction.TO_DEVICE) {
            copy(dev, tlb, orig, size, copyDir);
        } else {
            copy(dev, orig, tlb, size, copyDir);
        }
    }

    /**
     * {@code swiotlb_bounce} (6.12): copies between the bounce buffer and the original for {@code size} bytes, the
     * original located from the slot's stored address; an access beyond the allocation is clipped after a one-time
     * WARN.
     */
    @KernelFunction("swiotlb_bounce")
    private void bounce(Device dev, long tlb, long size, Direction dir, IoTlbPool pool) {
        int index = pool.slotOf(tlb);
        long orig = pool.origAddr(index);
        long allocSize = pool.allocSize(index);
        if (orig == IoTlbPool.INVALID_PHYS_ADDR) {
            return;
        }
        long minAlign = minAlign(dev);
        long tlbOffset = (tlb & (IoTlbPool.IO_TLB_SIZE - 1)) - (orig & minAlign & (IoTlbPool.IO_TLB_SIZE - 1));
        orig += tlbOffset;
        allocSize -= tlbOffset;
        if (Bits.ult(allocSize, size)) {
            kernel.printk()
                    .warnOnce(
                            "swiotlb_bounce:overflow",
                            "kernel/dma/swiotlb.c swiotlb_bounce",
                            dev.logPrefix() + "Buffer overflow detected. Allocation size: " + allocSize
                                    + ". Mapping size: " + size + ".");
            size = allocSize;
        }
        if (dir == Direction.TO_DEVICE) {
            copy(dev, tlb, orig, size, dir);
        } else {
            copy(dev, orig, tlb, size, dir);
        }
    }

    /** A bounce copy by the current CPU through the linear map, counted by direction (in all and for the device). */
    private void copy(Device dev, long dstPa, long srcPa, long size, Direction dir) {
        cpu.copyPhys(dstPa, srcPa, size);
        dev.countBounce(dir == Direction.TO_DEVICE, size);
        if (dir == Direction.TO_DEVICE) {
            bytesToBounce += size;
        } else {
            bytesFromBounce += size;
        }
    }

    /**
     * Trace replay's one-step mode (not a kernel function): makes the pool hold the bounce mapping the real kernel
     * made for {@code orig} at {@code tlb}, as {@link #tblMapSingle} (6.12, {@code alloc_align_mask} 0) would have
     * left it, without copying.
     *
     * @return false if {@code tlb} is outside the device's pool or its slots are taken in the model
     */
    public boolean adoptMapping(Device dev, long tlb, long orig, long mappingSize) {
        IoTlbMem m = memOf(dev);
        IoTlbPool pool = m == null ? null : m.defpool();
        if (pool == null || !pool.contains(tlb) || !modern) {
            return false;
        }
        long minAlign = minAlign(dev);
        long offset = orig & minAlign & (IoTlbPool.IO_TLB_SIZE - 1);
        long size = mappingSize + offset;
        int slot = pool.slotOf(tlb - (tlb & minAlign & (IoTlbPool.IO_TLB_SIZE - 1)));
        int nslots = (int) IoTlbPool.nrSlots(size);
        if (!pool.adopt(slot, nslots, size, offset)) {
            return false;
        }
        pool.recordOrig(slot, 0, orig, size);
        m.incUsed(nslots);
        return true;
    }

    /** Mappings that got bounce slots. */
    public long bouncedMaps() {
        return bouncedMaps;
    }

    /** Mappings refused because no slots were free ("swiotlb buffer is full"). */
    public long failedMaps() {
        return failedMaps;
    }

    /** Bounces whose slot the device could not reach (released again; the map failed). */
    public long unreachableBounces() {
        return unreachableBounces;
    }

    /** Bytes copied into bounce buffers (map and sync_for_device). */
    public long bytesToBounce() {
        return bytesToBounce;
    }

    /** Bytes copied out of bounce buffers (unmap and sync_for_cpu). */
    public long bytesFromBounce() {
        return bytesFromBounce;
    }

    // ---------------------------------------------------------------------------------------------------------

    /** {@code dev_driver_string(dev)}: the bound driver's name, else the bus name. */
}
