package dev.dmalab.kernel;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.cache.MemAttr;
import dev.dmalab.memory.GuestPhysMap;

/**
 * Loads, stores, {@code memset} and {@code memcpy} as kernel code does them: by virtual address, on the current
 * CPU ({@link ExecContext#cpu()}), through the mapping's memory type and the CPU caches. Physical-address
 * variants go through the linear map (write-back), which is how {@code swiotlb_bounce} and {@code memset} of
 * lowmem pages touch memory.
 *
 * <p>Under a hypervisor the kernel's physical addresses are guest-physical: every access is translated, frame by
 * frame, through the domain's {@link GuestPhysMap} to the machine addresses the caches and memory are indexed by
 * (a native kernel has no such map, and pays nothing for it).
 */
public final class CpuMemory {
    private final KernelAddressSpace addressSpace;
    private final CacheSystem caches;
    private final ExecContext context;
    private GuestPhysMap guestMap;
    private CpuAccessObserver accessObserver;

    public CpuMemory(KernelAddressSpace addressSpace, CacheSystem caches, ExecContext context) {
        this.addressSpace = addressSpace;
        this.caches = caches;
        this.context = context;
    }

    /** Runs this kernel as a guest whose physical addresses {@code map} translates (Xen dom0). */
    public void setGuestPhysMap(GuestPhysMap map) {
        this.guestMap = map;
    }

    /** Reports every virtual-address access to {@code observer} (the DMA checker); null detaches. */
    public void setAccessObserver(CpuAccessObserver observer) {
        this.accessObserver = observer;
    }

    /** The guest-physical map, or null for a native kernel. */
    public GuestPhysMap guestPhysMap() {
        return guestMap;
    }

    /** The machine address the CPU reaches for kernel physical address {@code pa}. */
    public long machineAddr(long pa) {
        if (guestMap == null) {
            return pa;
        }
        long ma = guestMap.machineAddr(pa);
        if (ma < 0) {
            throw new IllegalStateException(
                    "guest physical address 0x" + Long.toHexString(pa) + " has no machine frame (a stage-2 fault)");
        }
        return ma;
    }

    /** Bytes from {@code pa} to the end of its translation frame, capped at {@code len}. */
    private int piece(long pa, long len) {
        long frame = guestMap.frameBytes();
        return (int) Math.min(len, frame - (pa & (frame - 1)));
    }

    public KernelAddressSpace addressSpace() {
        return addressSpace;
    }

    public CacheSystem caches() {
        return caches;
    }

    private long phys(long va, long len) {
        long pa = addressSpace.virtToPhys(va);
        if (pa < 0) {
            throw new IllegalArgumentException("unmapped kernel virtual address 0x" + Long.toHexString(va));
        }
        if (len > 1 && addressSpace.isVmalloc(va)) {
            long last = addressSpace.virtToPhys(va + len - 1);
            if (last != pa + len - 1) {
                throw new IllegalArgumentException(
                        "access at 0x" + Long.toHexString(va) + "+" + len + " crosses a vmalloc mapping boundary");
            }
        }
        return pa;
    }

    public void read(long va, byte[] dst, int off, int len) {
        long pa = phys(va, len);
        observe(va, pa, len, false);
        readAt(pa, dst, off, len, addressSpace.attrOf(va));
    }

    public void write(long va, byte[] src, int off, int len) {
        long pa = phys(va, len);
        observe(va, pa, len, true);
        writeAt(pa, src, off, len, addressSpace.attrOf(va));
    }

    public void memset(long va, byte value, long len) {
        long pa = phys(va, len);
        observe(va, pa, len, true);
        fillAt(pa, value, len, addressSpace.attrOf(va));
    }

    public void memcpy(long dstVa, long srcVa, long len) {
        long dst = phys(dstVa, len);
        long src = phys(srcVa, len);
        observe(srcVa, src, len, false);
        observe(dstVa, dst, len, true);
        copyAt(dst, addressSpace.attrOf(dstVa), src, addressSpace.attrOf(srcVa), len);
    }

    private void observe(long va, long pa, long len, boolean write) {
        if (accessObserver != null && len > 0) {
            accessObserver.onCpuAccess(context.cpu(), va, pa, len, write);
        }
    }

    /** Reads physical memory through the linear map (cacheable). */
    public void readPhys(long pa, byte[] dst, int off, int len) {
        readAt(pa, dst, off, len, MemAttr.NORMAL_WB);
    }

    /** Writes physical memory through the linear map (cacheable). */
    public void writePhys(long pa, byte[] src, int off, int len) {
        writeAt(pa, src, off, len, MemAttr.NORMAL_WB);
    }

    /** {@code memset} of physical memory through the linear map. */
    public void memsetPhys(long pa, byte value, long len) {
        fillAt(pa, value, len, MemAttr.NORMAL_WB);
    }

    /** {@code memcpy} between physical ranges through the linear map, e.g. a swiotlb bounce. */
    public void copyPhys(long dstPa, long srcPa, long len) {
        copyAt(dstPa, MemAttr.NORMAL_WB, srcPa, MemAttr.NORMAL_WB, len);
    }

    private void readAt(long pa, byte[] dst, int off, int len, MemAttr attr) {
        if (guestMap == null) {
            caches.cpuRead(context.cpu(), pa, dst, off, len, attr);
            return;
        }
        while (len > 0) {
            int n = piece(pa, len);
            caches.cpuRead(context.cpu(), machineAddr(pa), dst, off, n, attr);
            pa += n;
            off += n;
            len -= n;
        }
    }

    private void writeAt(long pa, byte[] src, int off, int len, MemAttr attr) {
        if (guestMap == null) {
            caches.cpuWrite(context.cpu(), pa, src, off, len, attr);
            return;
        }
        while (len > 0) {
            int n = piece(pa, len);
            caches.cpuWrite(context.cpu(), machineAddr(pa), src, off, n, attr);
            pa += n;
            off += n;
            len -= n;
        }
    }

    private void fillAt(long pa, byte value, long len, MemAttr attr) {
        if (guestMap == null) {
            caches.cpuFill(context.cpu(), pa, len, value, attr);
            return;
        }
        while (len > 0) {
            int n = piece(pa, len);
            caches.cpuFill(context.cpu(), machineAddr(pa), n, value, attr);
            pa += n;
            len -= n;
        }
    }

    private void copyAt(long dstPa, MemAttr dstAttr, long srcPa, MemAttr srcAttr, long len) {
        if (guestMap == null) {
            caches.cpuCopy(context.cpu(), srcPa, srcAttr, dstPa, dstAttr, len);
            return;
        }
        while (len > 0) {
            int n = Math.min(piece(srcPa, len), piece(dstPa, len));
            caches.cpuCopy(context.cpu(), machineAddr(srcPa), srcAttr, machineAddr(dstPa), dstAttr, n);
            srcPa += n;
            dstPa += n;
            len -= n;
        }
    }
}
