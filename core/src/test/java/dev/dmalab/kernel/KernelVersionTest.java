package dev.dmalab.kernel;

import static dev.dmalab.kernel.Feature.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The built-in kernel versions and their feature sets. The expected sets are written out from kernel history
 * (the release that introduced or removed each behaviour), not computed from the {@link Feature} table, so that a
 * wrong since/until in the table fails here.
 */
class KernelVersionTest {
    /** 4.20: the last release before the bypass; swiotlb is its own ops table; Xen saves the native ops. */
    private static final Set<Feature> V4_20 =
            EnumSet.of(MAP_RESOURCE_BUG_ON_RAM, SWIOTLB_DMA_OPS, XEN_ARM64_ARCHDATA_OPS, XEN_ARM32_ARCHDATA_OPS);

    /**
     * 5.0-rc2: 356da6d0cde3 (bypass, global DMA_MAPPING_ERROR, its inverted dma_supported), dma-direct with the
     * swiotlb fallback and report_addr, arm64 on dma-direct; the arm64 Xen header fix (60d8cd572f65) not yet.
     */
    private static final Set<Feature> V5_0_RC2 = EnumSet.of(
            DIRECT_BYPASS,
            GLOBAL_MAPPING_ERROR,
            MAP_RESOURCE_BUG_ON_RAM,
            DMA_SUPPORTED_INVERTED,
            DIRECT_SWIOTLB_FALLBACK,
            DIRECT_SG_SYNC_USES_SG_PHYS,
            DIRECT_REPORT_ADDR,
            ARM64_DMA_DIRECT,
            XEN_ARM64_ARCHDATA_OPS,
            XEN_ARM32_ARCHDATA_OPS);

    /** 5.0: the dma_supported and arm64 Xen fixes; arm64 no longer saves archdata ops. */
    private static final Set<Feature> V5_0 = EnumSet.of(
            DIRECT_BYPASS,
            GLOBAL_MAPPING_ERROR,
            MAP_RESOURCE_BUG_ON_RAM,
            DIRECT_SWIOTLB_FALLBACK,
            DIRECT_SG_SYNC_USES_SG_PHYS,
            DIRECT_REPORT_ADDR,
            ARM64_DMA_DIRECT,
            XEN_ARM32_ARCHDATA_OPS,
            XEN_ARM64_HEADER_FIXED);

    /**
     * 5.4: dma_max_mapping_size and dma_direct_map_resource (5.1), io_tlb_used (5.1) and the "total/used" full
     * message (5.2), NO_KERNEL_MAPPING in dma-direct (5.3), sg syncs by DMA address, the swiotlb-xen rework; arm32
     * stopped saving archdata ops.
     */
    private static final Set<Feature> V5_4 = EnumSet.of(
            DIRECT_BYPASS,
            GLOBAL_MAPPING_ERROR,
            MAX_MAPPING_SIZE,
            MAP_RESOURCE_WARN_ON_RAM,
            DIRECT_NO_KERNEL_MAPPING,
            DIRECT_MAP_RESOURCE,
            DIRECT_SWIOTLB_FALLBACK,
            DIRECT_REPORT_ADDR,
            SWIOTLB_USED_COUNT,
            SWIOTLB_FULL_MESSAGE_TOTALS,
            ARM64_DMA_DIRECT,
            ARM64_FLIPPED_VA,
            ARM64_OOPS_EC_HEX,
            ARM32_LPAE_DMA_DIRECT,
            XEN_ARM64_HEADER_FIXED,
            XEN_PAGE_COHERENT_REWORK,
            XEN_CACHE_MAINT_SIMPLE,
            XEN_MAP_SG_VIA_MAP_PAGE,
            XEN_REUSE_BOOT_POOL,
            XEN_REMAPPED_PAGES,
            SIL24_NO_MEMSET,
            SIL24_MASK_AND_COHERENT);

    /** 6.12: everything except what was removed on the way. */
    private static final Set<Feature> V6_12 = EnumSet.complementOf(EnumSet.of(
            MAP_RESOURCE_BUG_ON_RAM,
            MAP_RESOURCE_WARN_ON_RAM,
            DMA_SUPPORTED_INVERTED,
            DIRECT_SG_SYNC_USES_SG_PHYS,
            DIRECT_REPORT_ADDR,
            SWIOTLB_DMA_OPS,
            XEN_ARM64_ARCHDATA_OPS,
            XEN_ARM32_ARCHDATA_OPS));

    @Test
    void featureSetsOfTheBuiltInVersions() {
        assertThat(KernelVersion.V4_20.features()).containsExactlyInAnyOrderElementsOf(V4_20);
        assertThat(KernelVersion.V5_0_RC2.features()).containsExactlyInAnyOrderElementsOf(V5_0_RC2);
        assertThat(KernelVersion.V5_0.features()).containsExactlyInAnyOrderElementsOf(V5_0);
        assertThat(KernelVersion.V5_4.features()).containsExactlyInAnyOrderElementsOf(V5_4);
        assertThat(KernelVersion.V6_12.features()).containsExactlyInAnyOrderElementsOf(V6_12);
    }

    @Test
    void theSeedRegressionVersion() {
        KernelVersion rc2 = KernelVersion.V5_0_RC2;
        assertThat(rc2.has(DIRECT_BYPASS)).isTrue();
        assertThat(rc2.has(XEN_ARM64_ARCHDATA_OPS)).isTrue();
        assertThat(rc2.has(XEN_ARM64_HEADER_FIXED)).isFalse();
        assertThat(KernelVersion.V5_0.has(XEN_ARM64_HEADER_FIXED)).isTrue();
        assertThat(KernelVersion.V5_0.has(XEN_ARM64_ARCHDATA_OPS)).isFalse();
        assertThat(KernelVersion.V4_20.has(DIRECT_BYPASS)).isFalse();
    }

    @Test
    void builtInVersionsAreOrderedAndDistinct() {
        List<KernelVersion> sorted = new ArrayList<>(KernelVersion.builtIn());
        sorted.sort(null);
        assertThat(sorted)
                .containsExactly(
                        KernelVersion.V4_20,
                        KernelVersion.V5_0_RC2,
                        KernelVersion.V5_0,
                        KernelVersion.V5_4,
                        KernelVersion.V6_12);
        assertThat(KernelVersion.builtIn()).isEqualTo(sorted);
        assertThat(KernelVersion.keyOf("5.0-rc1")).isLessThan(KernelVersion.keyOf("5.0-rc2"));
        assertThat(KernelVersion.keyOf("5.0-rc2")).isLessThan(KernelVersion.keyOf("5.0"));
        assertThat(KernelVersion.keyOf("5.0")).isLessThan(KernelVersion.keyOf("5.1-rc1"));
        assertThat(KernelVersion.keyOf("4.20")).isLessThan(KernelVersion.keyOf("5.0-rc1"));
        assertThat(KernelVersion.keyOf("5.9")).isLessThan(KernelVersion.keyOf("5.10"));
        assertThat(KernelVersion.V5_0).isNotEqualTo(KernelVersion.V5_0_RC2);
        assertThat(KernelVersion.parse("5.0")).isEqualTo(KernelVersion.V5_0).hasSameHashCodeAs(KernelVersion.V5_0);
    }

    @Test
    void parsingAcceptsBuiltInNamesOnly() {
        assertThat(KernelVersion.parse("6.12")).isSameAs(KernelVersion.V6_12);
        assertThat(KernelVersion.parse("v5.0-rc2")).isSameAs(KernelVersion.V5_0_RC2);
        assertThat(KernelVersion.parse("  5.4 ")).isSameAs(KernelVersion.V5_4);
        assertThatThrownBy(() -> KernelVersion.parse("5.1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown kernel '5.1' (known: 4.20, 5.0-rc2, 5.0, 5.4, 6.12)");
        assertThatThrownBy(() -> KernelVersion.parse("linux"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown kernel 'linux'");
        assertThatThrownBy(() -> KernelVersion.keyOf("5.0-rc"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("not a kernel version: 5.0-rc");
        assertThatThrownBy(() -> KernelVersion.keyOf("6")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void releaseStringsForOopsBanners() {
        assertThat(KernelVersion.V4_20.release()).isEqualTo("4.20.0-dmalab");
        assertThat(KernelVersion.V5_0_RC2.release()).isEqualTo("5.0.0-rc2-dmalab");
        assertThat(KernelVersion.V6_12.release()).isEqualTo("6.12.0-dmalab");
        assertThat(KernelVersion.V6_12.toString()).isEqualTo("6.12");
        assertThat(KernelVersion.V5_0_RC2.description()).contains("seed");
    }

    @Test
    void everyFeatureHasAConsistentRange() {
        for (Feature f : Feature.values()) {
            assertThat(f.since() != null || f.until() != null)
                    .as("%s has a range", f)
                    .isTrue();
            if (f.since() != null && f.until() != null) {
                assertThat(KernelVersion.keyOf(f.since())).as("%s", f).isLessThan(KernelVersion.keyOf(f.until()));
            }
            assertThat(f.summary()).isNotBlank();
        }
        assertThat(DIRECT_BYPASS.displayName()).isEqualTo("direct-bypass");
    }
}
