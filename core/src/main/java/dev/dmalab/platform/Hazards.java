package dev.dmalab.platform;

import dev.dmalab.check.Category;
import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.kernel.KernelVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * Which built-in platforms a class of DMA bug bites on ({@link Category.Hazard}), read off each platform booted
 * with Linux 6.12 and its own command line: whether some device does not snoop the caches, whether some device's
 * buffers bounce (swiotlb forced, Xen's swiotlb, or the top of RAM not DMA-capable for it: its mask, bus limit and
 * DMA ranges), and whether some device sits
 * behind a translating IOMMU. Computed once, in the built-in order.
 */
public final class Hazards {
    /** What a platform is like, as far as the hazards go. */
    public record Traits(String platform, boolean nonCoherent, boolean bouncing, boolean iommu) {}

    private static List<Traits> traits;

    private Hazards() {}

    /** The traits of every built-in platform. */
    public static synchronized List<Traits> traits() {
        if (traits == null) {
            List<Traits> out = new ArrayList<>();
            for (String name : Platforms.BUILT_IN) {
                out.add(traitsOf(Machine.boot(Platforms.builtIn(name), KernelVersion.V6_12)));
            }
            traits = List.copyOf(out);
        }
        return traits;
    }

    /** The traits of a booted machine. */
    public static Traits traitsOf(Machine m) {
        long topOfRam = m.memory().map().endOfDram() - 1;
        boolean nonCoherent = false;
        boolean bouncing = m.xen() != null;
        boolean iommu = false;
        for (Device d : m.devices()) {
            nonCoherent |= !d.dmaCoherent();
            IommuContext ctx = d.iommuContext();
            boolean translated = ctx != null && ctx.kind() == IommuContext.Kind.TRANSLATED;
            iommu |= translated;
            bouncing |= m.swiotlb().isForceBounce(d)
                    || (!translated
                            && d.hasDmaMask()
                            && !DmaAddress.dmaCapable(d, DmaAddress.physToDma(d, topOfRam), 1, true));
        }
        return new Traits(m.profile().name(), nonCoherent, bouncing, iommu);
    }

    /** Whether {@code hazard} applies to a platform with these traits. */
    public static boolean bites(Category.Hazard hazard, Traits t) {
        return switch (hazard) {
            case EVERYWHERE -> true;
            case NON_COHERENT -> t.nonCoherent();
            case NON_COHERENT_OR_BOUNCING -> t.nonCoherent() || t.bouncing();
            case BOUNCING_OR_IOMMU -> t.bouncing() || t.iommu();
            case IOMMU -> t.iommu();
        };
    }

    /** The built-in platforms {@code hazard} bites on, in the built-in order. */
    public static List<String> bitesOn(Category.Hazard hazard) {
        List<String> out = new ArrayList<>();
        for (Traits t : traits()) {
            if (bites(hazard, t)) {
                out.add(t.platform());
            }
        }
        return out;
    }
}
