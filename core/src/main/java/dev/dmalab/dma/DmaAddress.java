package dev.dmalab.dma;

import dev.dmalab.device.Device;
import dev.dmalab.device.DmaRangeMap;
import dev.dmalab.util.Bits;

/**
 * The address helpers of {@code include/linux/dma-direct.h} that every backend and the core share: {@code
 * phys_to_dma}, {@code dma_to_phys} and {@code dma_capable}.
 *
 * <p>Translation uses the device's {@code dma_range_map} (5.10+) when it has one, else its {@code dma_pfn_offset}
 * (≤ 5.9: plain subtraction, valid or not), else the identity.
 *
 * <p>Deliberate difference: no memory encryption ({@code __sme_set}, CoCo decrypted bits); {@code
 * phys_to_dma_unencrypted} equals {@code phys_to_dma}.
 */
public final class DmaAddress {
    private DmaAddress() {}

    /** {@code phys_to_dma(dev, paddr)}: all ones if no dma-range region holds {@code paddr}. */
    public static long physToDma(Device dev, long paddr) {
        DmaRangeMap map = dev.dmaRangeMap();
        return map == null ? paddr - dev.dmaPfnOffsetBytes() : map.physToDma(paddr);
    }

    /** {@code phys_to_dma_unencrypted(dev, paddr)}. */
    public static long physToDmaUnencrypted(Device dev, long paddr) {
        return physToDma(dev, paddr);
    }

    /** {@code dma_to_phys(dev, dma_addr)}: all ones if no region holds {@code dma}. */
    public static long dmaToPhys(Device dev, long dma) {
        DmaRangeMap map = dev.dmaRangeMap();
        return map == null ? dma + dev.dmaPfnOffsetBytes() : map.dmaToPhys(dma);
    }

    /** The limit {@code dma_capable} compares against: {@code min_not_zero(*dma_mask, bus_dma_limit)}. */
    public static long streamingLimit(Device dev) {
        return Bits.minNotZero(dev.dmaMask(), dev.busDmaLimit());
    }

    /** The limit coherent allocations must respect: {@code min_not_zero(coherent_dma_mask, bus_dma_limit)}. */
    public static long coherentLimit(Device dev) {
        return Bits.minNotZero(dev.coherentDmaMask(), dev.busDmaLimit());
    }

    /**
     * {@code dma_capable(dev, addr, size, is_ram)}: the device can reach {@code [addr, addr + size)}. False for the
     * error cookie and, before 5.10, for a device without a DMA mask. (The 32-bit-dma_addr_t lowmem test does not
     * apply to the 64-bit configurations modelled.)
     */
    public static boolean dmaCapable(Device dev, long addr, long size, boolean isRam) {
        if (addr == Bits.U64_MAX || !dev.hasDmaMask()) {
            return false;
        }
        long end = addr + size - 1;
        if (size > 0 && Bits.ult(end, addr)) {
            return false; // wraps around the address space
        }
        return Bits.ule(end, streamingLimit(dev));
    }
}
