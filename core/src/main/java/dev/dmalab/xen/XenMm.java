package dev.dmalab.xen;

import dev.dmalab.arch.Arch;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.Errno;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.hypervisor.XenErrno;
import dev.dmalab.hypervisor.XenFrames;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.util.Bits;
import java.util.function.LongPredicate;

/**
 * The arch glue of swiotlb-xen: {@code arch/arm/xen/mm.c} (cache maintenance of foreign pages by {@code
 * GNTTABOP_cache_flush}, {@code xen_arch_need_swiotlb}, the hypercall probe of {@code xen_mm_init}, the 1:1 {@code
 * xen_create_contiguous_region}) and, on x86 PV, {@code arch/x86/xen/mmu_pv.c}'s {@code xen_create_contiguous_region}
 * / {@code xen_destroy_contiguous_region} ({@code XENMEM_exchange}).
 *
 * <p>Cache maintenance by hypercall, two forms (spec §7.9):
 *
 * <ul>
 *   <li>≤ 5.3: {@code dma_cache_maint(handle, offset, size, dir, op)} walks the Xen frames from {@code (handle >> 12)
 *       + offset / 4096}, one request per frame, the op derived from the direction (map: FROM_DEVICE invalidates,
 *       others clean; unmap: invalidate unless TO_DEVICE).
 *   <li>5.4+ ("xen/arm: simplify dma_cache_maint"): the caller passes the op; the loop starts at the frame of the
 *       handle and advances the address by each request's length. When the buffer starts inside a frame, the second
 *       request therefore still names the first frame (Xen ignores the low bits), and the start of the second frame
 *       is never maintained — modelled as the kernel does it. 5.10+ translates each address with {@code
 *       dma_to_phys}.
 * </ul>
 */
public final class XenMm {
    /** {@code MAX_CONTIG_ORDER} of {@code mmu_pv.c} (the static {@code discontig_frames[]} of 512 entries). */
    public static final int MAX_CONTIG_ORDER = 9;

    private final Kernel kernel;
    private final Xen xen;
    private final Domain self;
    private final XenP2m p2m;
    private final XenAddress addr;
    private final CpuMemory cpu;
    private final Arch arch;
    private final LongPredicate pfnValid;
    private final int pageShift;
    private final boolean simpleMaint;
    private final boolean largeContig;
    private final boolean initialDomain;
    private boolean hypercallCflush;

    /**
     * @param pfnValid {@code pfn_valid(pfn)} of the dom0 kernel, in Linux page frames
     */
    public XenMm(
            Kernel kernel,
            XenP2m p2m,
            XenAddress addr,
            CpuMemory cpu,
            Arch arch,
            LongPredicate pfnValid,
            int pageShift,
            boolean initialDomain) {
        this.kernel = kernel;
        this.xen = p2m.hypervisor();
        this.self = p2m.domain();
        this.p2m = p2m;
        this.addr = addr;
        this.cpu = cpu;
        this.arch = arch;
        this.pfnValid = pfnValid;
        this.pageShift = pageShift;
        this.simpleMaint = kernel.has(Feature.XEN_CACHE_MAINT_SIMPLE);
        this.largeContig = kernel.has(Feature.XEN_PV_LARGE_CONTIG);
        this.initialDomain = initialDomain;
    }

    public XenAddress address() {
        return addr;
    }

    public XenP2m p2m() {
        return p2m;
    }

    /** {@code pfn_valid(PFN_DOWN(a))} of the dom0 kernel. */
    public boolean pfnValidAddr(long a) {
        return a >= 0 && pfnValid.test(a >>> pageShift);
    }

    /** {@code hypercall_cflush}: whether {@code GNTTABOP_cache_flush} answered the probe. */
    public boolean hypercallCflush() {
        return hypercallCflush;
    }

    /** The probe at the end of {@code xen_mm_init}: an all-zero request that is not {@code -ENOSYS}. */
    public void probeCacheFlush() {
        hypercallCflush = xen.cacheFlush(self, 0, 0, 0, 0) != -XenErrno.ENOSYS;
    }

    // -------------------------------------------------------------------------------------------------------------
    // ARM cache maintenance by hypercall

    /** ≤ 5.3 {@code dma_cache_maint(handle, offset, size, dir, op)}. */
    @KernelFunction(value = "dma_cache_maint", inline = true)
    private void dmaCacheMaint50(long handle, long offset, long size, Direction dir, boolean map) {
        long xenPfn = (handle >>> XenFrames.SHIFT) + offset / XenFrames.SIZE;
        offset %= XenFrames.SIZE;
        long left = size;
        do {
            long len = left;
            if (len + offset > XenFrames.SIZE) {
                len = XenFrames.SIZE - offset;
            }
            int op = 0;
            if (!map && dir != Direction.TO_DEVICE) {
                op = Xen.CACHE_INVAL;
            }
            if (map) {
                op = dir == Direction.FROM_DEVICE ? Xen.CACHE_INVAL : Xen.CACHE_CLEAN;
            }
            if (op != 0) {
                hypercall(xenPfn << XenFrames.SHIFT, offset, len, op);
            }
            offset = 0;
            xenPfn++;
            left -= len;
        } while (left > 0);
    }

    /** 5.4+ {@code dma_cache_maint(dev, handle, size, op)}. */
    @KernelFunction(value = "dma_cache_maint", inline = true)
    private void dmaCacheMaint(Device dev, long handle, long size, int op) {
        long offset = handle & XenFrames.MASK;
        long at = handle & ~XenFrames.MASK;
        do {
            long busAddr = addr.dmaToBus(dev, at);
            long length = size + offset > XenFrames.SIZE ? XenFrames.SIZE - offset : size;
            hypercall(busAddr, offset, length, op);
            offset = 0;
            at += length;
            size -= length;
        } while (size > 0);
    }

    private void hypercall(long busAddr, long offset, long length, int op) {
        int rc = xen.cacheFlush(self, busAddr, (int) offset, (int) length, op);
        if (kernel.paths().enabled()) {
            String what = op == (Xen.CACHE_CLEAN | Xen.CACHE_INVAL)
                    ? "clean+invalidate"
                    : op == Xen.CACHE_INVAL ? "invalidate" : "clean";
            kernel.paths()
                    .note("GNTTABOP_cache_flush " + what + " frame " + Bits.hex0x(busAddr & ~XenFrames.MASK) + " +"
                            + Bits.hex0x(offset) + " len " + length + (rc == 0 ? "" : " -> " + rc));
        }
    }

    /** A note on the page-coherent map hook's local/foreign decision. */
    void noteLocality(boolean local, String localHook) {
        if (kernel.paths().enabled()) {
            kernel.paths()
                    .note(
                            local
                                    ? "xen_dma_map_page: local page, " + localHook
                                    : "xen_dma_map_page: foreign page, __xen_dma_map_page");
        }
    }

    private void local(String what, long paddr, long size) {
        if (kernel.paths().enabled()) {
            kernel.paths().note(what + " (local page " + Bits.hex0x(paddr) + ", " + size + " bytes)");
        }
    }

    private void cpuToDev50(long handle, long size, Direction dir) {
        long pageMask = (1L << pageShift) - 1;
        dmaCacheMaint50(handle & ~pageMask, handle & pageMask, size, dir, true);
    }

    private void devToCpu50(long handle, long size, Direction dir) {
        long pageMask = (1L << pageShift) - 1;
        dmaCacheMaint50(handle & ~pageMask, handle & pageMask, size, dir, false);
    }

    /** ≤ 5.3 {@code __xen_dma_map_page}: cache maintenance of a foreign page before the device reads it. */
    @KernelFunction(value = "__xen_dma_map_page")
    public void foreignMapPage50(Device dev, long devAddr, long size, Direction dir, long attrs) {
        if (dev.dmaCoherent() || DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            return;
        }
        cpuToDev50(devAddr, size, dir);
    }

    /** ≤ 5.3 {@code __xen_dma_unmap_page}. */
    @KernelFunction(value = "__xen_dma_unmap_page")
    public void foreignUnmapPage50(Device dev, long handle, long size, Direction dir, long attrs) {
        if (dev.dmaCoherent() || DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            return;
        }
        devToCpu50(handle, size, dir);
    }

    /** ≤ 5.3 {@code __xen_dma_sync_single_for_cpu}. */
    @KernelFunction(value = "__xen_dma_sync_single_for_cpu")
    public void foreignSyncForCpu50(Device dev, long handle, long size, Direction dir) {
        if (!dev.dmaCoherent()) {
            devToCpu50(handle, size, dir);
        }
    }

    /** ≤ 5.3 {@code __xen_dma_sync_single_for_device}. */
    @KernelFunction(value = "__xen_dma_sync_single_for_device")
    public void foreignSyncForDevice50(Device dev, long handle, long size, Direction dir) {
        if (!dev.dmaCoherent()) {
            cpuToDev50(handle, size, dir);
        }
    }

    /**
     * 5.4+ cache maintenance before the CPU reads ({@code xen_dma_sync_for_cpu} with its caller's local test): a
     * local page ({@code pfn_valid} of the bus frame — dom0 is 1:1, a foreign frame is never one of its pages) gets
     * {@code arch_sync_dma_for_cpu}; a foreign one the hypercall.
     */
    @KernelFunction(value = "xen_dma_sync_for_cpu")
    public void syncForCpu(Device dev, long handle, long paddr, long size, Direction dir) {
        if (pfnValidAddr(addr.dmaToBus(dev, handle))) {
            local("arch_sync_dma_for_cpu", paddr, size);
            arch.syncDmaForCpu(cpu.machineAddr(paddr), size, dir);
        } else if (dir != Direction.TO_DEVICE) {
            dmaCacheMaint(dev, handle, size, Xen.CACHE_INVAL);
        }
    }

    /** 5.4+ cache maintenance before the device accesses ({@code xen_dma_sync_for_device} with the local test). */
    @KernelFunction(value = "xen_dma_sync_for_device")
    public void syncForDevice(Device dev, long handle, long paddr, long size, Direction dir) {
        if (pfnValidAddr(addr.dmaToBus(dev, handle))) {
            local("arch_sync_dma_for_device", paddr, size);
            arch.syncDmaForDevice(cpu.machineAddr(paddr), size, dir);
        } else if (dir == Direction.FROM_DEVICE) {
            dmaCacheMaint(dev, handle, size, Xen.CACHE_INVAL);
        } else {
            dmaCacheMaint(dev, handle, size, Xen.CACHE_CLEAN);
        }
    }

    /**
     * {@code xen_arch_need_swiotlb(dev, phys, dev_addr)}: ARM bounces a foreign page for a non-coherent device only
     * when Xen cannot flush the cache for it; x86 never.
     */
    @KernelFunction(value = "xen_arch_need_swiotlb")
    public boolean archNeedSwiotlb(Device dev, long phys, long devAddr) {
        if (p2m.pv()) {
            return false;
        }
        long xenPfn = phys >>> XenFrames.SHIFT;
        long bfn = addr.dmaToBus(dev, devAddr) >>> XenFrames.SHIFT;
        return !hypercallCflush && xenPfn != bfn && !dev.dmaCoherent();
    }

    // -------------------------------------------------------------------------------------------------------------
    // Contiguous regions

    /**
     * {@code xen_create_contiguous_region(pstart, order, address_bits, &handle)}. ARM: only dom0, and dom0 is 1:1,
     * so the handle is {@code pstart}. x86 PV: orders above {@link #MAX_CONTIG_ORDER} fail at once (until 6.12.16,
     * which grows its frame array after boot; the pool fixup at boot never asks for more); otherwise the
     * region is zeroed, its frames zapped from the p2m, exchanged with Xen for one machine-contiguous extent below
     * {@code 2^addressBits}, and remapped (the old frames back on failure); the handle is the machine address of the
     * first frame in both cases.
     *
     * @return 0 or a negative errno
     */
    @KernelFunction("xen_create_contiguous_region")
    public int createContiguousRegion(long pstart, int order, int addressBits, long[] handle) {
        if (!p2m.pv()) {
            if (!initialDomain) {
                return -Errno.EINVAL;
            }
            handle[0] = pstart;
            return 0;
        }
        if (order > MAX_CONTIG_ORDER && !largeContig) {
            return -Errno.ENOMEM; // 6.12.16+ grows discontig_frames instead (the model assumes that allocation works)
        }
        int frames = 1 << order;
        cpu.memsetPhys(pstart, (byte) 0, (long) frames << XenFrames.SHIFT);
        long pfn = pstart >>> XenFrames.SHIFT;
        long[] in = new long[frames];
        for (int i = 0; i < frames; i++) {
            in[i] = self.p2m().lookup(pfn + i);
            self.p2m().set(pfn + i, XenFrames.INVALID);
        }
        long out = xen.exchange(self, in, order, pfn, addressBits);
        for (int i = 0; i < frames; i++) {
            self.p2m().set(pfn + i, out >= 0 ? out + i : in[i]);
        }
        if (kernel.paths().enabled()) {
            kernel.paths()
                    .note("XENMEM_exchange: " + frames + " frame(s) at phys " + Bits.hex0x(pstart) + " for "
                            + (out >= 0
                                    ? "machine " + Bits.hex0x(out << XenFrames.SHIFT) + " (contiguous, below 2^"
                                            + addressBits + ")"
                                    : "nothing below 2^" + addressBits + " (" + out + ")"));
        }
        handle[0] = (self.p2m().lookup(pfn) << XenFrames.SHIFT) | (pstart & XenFrames.MASK);
        return out >= 0 ? 0 : -Errno.ENOMEM;
    }

    /**
     * {@code xen_destroy_contiguous_region(pstart, order)}: x86 PV trades the extent back for single frames with no
     * address limit (zeroing first); ARM does nothing.
     */
    @KernelFunction("xen_destroy_contiguous_region")
    public void destroyContiguousRegion(long pstart, int order) {
        if (!p2m.pv() || (order > MAX_CONTIG_ORDER && !largeContig)) {
            return;
        }
        int frames = 1 << order;
        cpu.memsetPhys(pstart, (byte) 0, (long) frames << XenFrames.SHIFT);
        long pfn = pstart >>> XenFrames.SHIFT;
        long first = self.p2m().lookup(pfn);
        for (int i = 0; i < frames; i++) {
            self.p2m().set(pfn + i, XenFrames.INVALID);
        }
        long[] out = xen.exchangeToSingles(self, first, order, pfn);
        for (int i = 0; i < frames; i++) {
            self.p2m().set(pfn + i, out != null ? out[i] : first + i);
        }
        if (kernel.paths().enabled()) {
            kernel.paths()
                    .note("XENMEM_exchange: " + frames + " frame(s) at phys " + Bits.hex0x(pstart) + " (machine "
                            + Bits.hex0x(first << XenFrames.SHIFT) + ") traded back"
                            + (out != null ? " for single frames" : ": failed, the old frames kept"));
        }
    }
}
