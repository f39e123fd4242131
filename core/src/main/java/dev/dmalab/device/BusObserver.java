package dev.dmalab.device;

/**
 * Sees every DMA access a device makes: the DMA checker's window on device behaviour (wild DMA, writes to
 * TO_DEVICE mappings, accesses after unmap).
 */
public interface BusObserver {
    /**
     * @param busAddr the address the device drove on its bus
     * @param phys the physical address it reached, or -1 if nothing answered
     * @param status what happened
     */
    void onDeviceAccess(Device device, boolean write, long busAddr, long phys, int len, BusMaster.Status status);
}
