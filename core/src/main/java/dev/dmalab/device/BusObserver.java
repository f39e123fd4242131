package dev.dmalab.device;

/**
 * Sees every DMA access a device makes: the DMA checker's window on device behaviour (wild DMA, writes to
 * TO_DEVICE mappings, accesses after unmap).
 */
public interface BusObserver {
    /**
     * A whole access is about to start (before its pieces): {@code len} bytes at {@code busAddr}. The checker
     * judges the access against the device's live mappings here, where an access that runs past a mapping's end
     * is still one access.
     */
    default void onDeviceAccessStart(Device device, boolean write, long busAddr, long len) {}

    /**
     * @param busAddr the address the device drove on its bus
     * @param phys the physical address it reached, or -1 if nothing answered
     * @param status what happened
     */
    /** One piece of an access (split at 4 KiB), after it happened. */
    void onDeviceAccess(Device device, boolean write, long busAddr, long phys, int len, BusMaster.Status status);
}
