package dev.dmalab.kernel;

/**
 * Sees the loads and stores kernel code makes through {@link CpuMemory}'s virtual-address operations (driver code:
 * {@code read}, {@code write}, {@code memset}, {@code memcpy}) before they happen. The DMA checker listens here to
 * catch the CPU touching a buffer the device owns. The kernel's own copies by physical address (swiotlb bounces)
 * are not reported: they are the DMA layer doing its job.
 */
@FunctionalInterface
public interface CpuAccessObserver {
    /**
     * @param cpu the CPU making the access
     * @param va the kernel virtual address accessed
     * @param pa the kernel physical address it maps to (guest-physical under a hypervisor)
     * @param len bytes accessed
     * @param write true for a store
     */
    void onCpuAccess(int cpu, long va, long pa, long len, boolean write);
}
