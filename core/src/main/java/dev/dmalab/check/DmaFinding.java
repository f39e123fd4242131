package dev.dmalab.check;

import java.util.List;

/**
 * One thing the checker found.
 *
 * @param category what kind of bug
 * @param device {@code dev_name} of the device concerned
 * @param driver its driver ({@code dev_driver_string}), as dma-debug prints it
 * @param dmaAddr the DMA address concerned (the mapping's, or the device access's), or -1
 * @param size the size concerned (mapping, access or sync), or 0
 * @param phys the CPU physical address concerned, or -1
 * @param call the call or access that revealed the bug ({@code dma_unmap_page}, {@code cpu read}, {@code device
 *     write})
 * @param callChain the modelled kernel call chain at that moment, innermost first (empty where no kernel code
 *     runs, as for a device access)
 * @param message what happened, with the numbers: the kernel's own dma-debug text for its checks
 * @param timeNs simulated time of the call
 * @param cpu the CPU that made it (-1 for a device access)
 */
public record DmaFinding(
        Category category,
        String device,
        String driver,
        long dmaAddr,
        long size,
        long phys,
        String call,
        List<String> callChain,
        String message,
        long timeNs,
        int cpu) {
    public DmaFinding {
        callChain = List.copyOf(callChain);
    }

    public Category.Severity severity() {
        return category.severity();
    }

    public String explanation() {
        return category.explanation();
    }

    public String fix() {
        return category.fix();
    }

    /** One line: {@code device: message [category]}. */
    @Override
    public String toString() {
        return device + ": " + message + " [" + category.id() + "]";
    }
}
