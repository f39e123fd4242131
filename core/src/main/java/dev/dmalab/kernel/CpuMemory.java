package dev.dmalab.kernel;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.cache.MemAttr;

/**
 * Loads, stores, {@code memset} and {@code memcpy} as kernel code does them: by virtual address, on the current
 * CPU ({@link ExecContext#cpu()}), through the mapping's memory type and the CPU caches. Physical-address
 * variants go through the linear map (write-back), which is how {@code swiotlb_bounce} and {@code memset} of
 * lowmem pages touch memory.
 */
public final class CpuMemory {
    private final KernelAddressSpace addressSpace;
    private final CacheSystem caches;
    private final ExecContext context;

    public CpuMemory(KernelAddressSpace addressSpace, CacheSystem caches, ExecContext context) {
        this.addressSpace = addressSpace;
        this.caches = caches;
        this.context = context;
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
        caches.cpuRead(context.cpu(), phys(va, len), dst, off, len, addressSpace.attrOf(va));
    }

    public void write(long va, byte[] src, int off, int len) {
        caches.cpuWrite(context.cpu(), phys(va, len), src, off, len, addressSpace.attrOf(va));
    }

    public void memset(long va, byte value, long len) {
        caches.cpuFill(context.cpu(), phys(va, len), len, value, addressSpace.attrOf(va));
    }

    public void memcpy(long dstVa, long srcVa, long len) {
        caches.cpuCopy(
                context.cpu(),
                phys(srcVa, len),
                addressSpace.attrOf(srcVa),
                phys(dstVa, len),
                addressSpace.attrOf(dstVa),
                len);
    }

    /** Reads physical memory through the linear map (cacheable). */
    public void readPhys(long pa, byte[] dst, int off, int len) {
        caches.cpuRead(context.cpu(), pa, dst, off, len, MemAttr.NORMAL_WB);
    }

    /** Writes physical memory through the linear map (cacheable). */
    public void writePhys(long pa, byte[] src, int off, int len) {
        caches.cpuWrite(context.cpu(), pa, src, off, len, MemAttr.NORMAL_WB);
    }

    /** {@code memset} of physical memory through the linear map. */
    public void memsetPhys(long pa, byte value, long len) {
        caches.cpuFill(context.cpu(), pa, len, value, MemAttr.NORMAL_WB);
    }

    /** {@code memcpy} between physical ranges through the linear map, e.g. a swiotlb bounce. */
    public void copyPhys(long dstPa, long srcPa, long len) {
        caches.cpuCopy(context.cpu(), srcPa, MemAttr.NORMAL_WB, dstPa, MemAttr.NORMAL_WB, len);
    }
}
