package dev.dmalab.kernel;

/**
 * A named behaviour of the DMA-mapping stack that some kernel versions have and others do not. Each switch
 * records the first mainline release that has it ({@code since}) and, where the behaviour was later removed, the
 * first release without it ({@code until}). Model code asks {@link KernelVersion#has(Feature)}; it never compares
 * version numbers.
 *
 * <p>Where a change was backported to stable series (noted per switch), the switch follows mainline; a stable
 * kernel that carries the backport is modelled by the mainline version that has it.
 */
public enum Feature {
    // ---- core dispatch (kernel/dma/mapping.c, include/linux/dma-mapping.h) ----
    /** NULL {@code dev->dma_ops} means dma-direct, called without an indirect call (356da6d0cde3). */
    DIRECT_BYPASS("5.0-rc1", null, "NULL dma_ops = dma-direct, called directly (356da6d0cde3)"),
    /** One global {@code DMA_MAPPING_ERROR} (~0); the {@code ->mapping_error} op and per-ops cookies are gone. */
    GLOBAL_MAPPING_ERROR("5.0-rc1", null, "global DMA_MAPPING_ERROR = ~0; no ->mapping_error op"),
    /** {@code dma_go_direct()}: an ops device may bypass its ops when its mask covers all RAM (CONFIG_DMA_OPS_BYPASS). */
    DMA_OPS_BYPASS("5.10", null, "dma_go_direct(): dma_ops_bypass for IOMMU ops"),
    /** Three-way dispatch: direct, dma-iommu called directly ({@code use_dma_iommu}), or ops. */
    DMA_IOMMU_DIRECT_CALLS("6.12", null, "dma-iommu called directly (use_dma_iommu)"),
    /** Map entry points are out of line and WARN (once) and fail when {@code dev->dma_mask} is NULL. */
    MAP_WARN_NO_DMA_MASK("5.10", null, "map paths WARN_ON_ONCE(!dev->dma_mask) and fail"),
    /** {@code dma_unmap_page_attrs} calls {@code ops->unmap_page} without a NULL check (f69e342eec00). */
    UNCONDITIONAL_UNMAP_PAGE_OP("6.12", null, "ops->unmap_page called without NULL check"),
    /** {@code dma_alloc_pages} / {@code dma_free_pages} exist. */
    DMA_ALLOC_PAGES("5.10", null, "dma_alloc_pages API"),
    /** {@code dma_max_mapping_size} and the {@code ->max_mapping_size} op exist. */
    MAX_MAPPING_SIZE("5.1", null, "dma_max_mapping_size"),
    /** {@code dma_map_sg_attrs} returns negative errnos internally; {@code dma_map_sgtable} exists. */
    MAP_SG_ERRNO("5.10", null, "map_sg returns -errno; dma_map_sgtable"),
    /** {@code dma_map_resource} is {@code BUG_ON(pfn_valid(phys))} and gives direct devices the raw phys. */
    MAP_RESOURCE_BUG_ON_RAM(null, "5.1", "dma_map_resource BUGs on RAM; raw phys for direct devices"),
    /** {@code dma_map_resource} WARNs and fails on RAM ({@code pfn_valid}). */
    MAP_RESOURCE_WARN_ON_RAM("5.1", "5.15", "dma_map_resource WARNs and fails on RAM"),
    /** dma-direct's own {@code dma_direct_map_resource} with a capability check. */
    DIRECT_MAP_RESOURCE("5.1", null, "dma_direct_map_resource checks dma_capable"),
    /** 5.0-rc1's inverted {@code dma_supported}: ops with the hook are always "supported", ops without it call NULL. */
    DMA_SUPPORTED_INVERTED("5.0-rc1", "5.0", "dma_supported calls a NULL hook (356da6d0cde3 bug)"),
    /** {@code dma_map_single} refuses vmalloc addresses with a WARN (5.18). */
    MAP_SINGLE_REJECTS_VMALLOC("5.18", null, "dma_map_single rejects vmalloc memory"),
    /** The {@code dma:*} tracepoints of {@code include/trace/events/dma.h}. */
    DMA_TRACEPOINTS("6.12", null, "dma:* tracepoints"),
    /**
     * The 6.12.y stable form of the tracepoints, from the 6.13 changes backported as dependencies (as Debian
     * 6.12.95 and 6.12.117 carry them): nents/ents counts and 128-entry truncation in {@code dma_map_sg}; {@code
     * dir=} in {@code dma_alloc}/{@code dma_free}; {@code dma_free} traced before the NULL check; allocations from a
     * per-device pool traced; the {@code dma_alloc_pages}, {@code dma_alloc_sgt} and {@code dma_map_sg_err}
     * events.
     */
    DMA_TRACEPOINTS_6_12_Y("6.12", null, "6.12.y trace formats (nents=/ents=, dir= on alloc/free)"),
    /** {@code dev->dma_skip_sync}: sync calls return early on devices that never need them (CONFIG_DMA_NEED_SYNC). */
    DMA_SKIP_SYNC("6.11", null, "dma_skip_sync elides syncs on coherent non-bounced devices"),
    /** {@code dma_alloc_attrs} refuses {@code __GFP_COMP}. */
    ALLOC_REJECTS_GFP_COMP("6.2", null, "dma_alloc_attrs WARNs on __GFP_COMP"),

    // ---- dma-direct ----
    /** dma-direct falls back to swiotlb when an address is not DMA-capable (dma_direct_map_page → swiotlb_map). */
    DIRECT_SWIOTLB_FALLBACK("5.0-rc1", null, "dma-direct bounces through swiotlb when not capable"),
    /** {@code dev->dma_range_map} regions replace {@code dev->dma_pfn_offset}. */
    DMA_RANGE_MAP("5.10", null, "dma_range_map replaces dma_pfn_offset"),
    /** dma-direct's swiotlb unmap passes SKIP_CPU_SYNC, so a bounce is not copied back twice. */
    DIRECT_UNMAP_SINGLE_COPY("5.16", null, "direct unmap copies a bounce back once, not twice"),
    /** Small unaligned FROM_DEVICE/BIDI kmalloc buffers of non-coherent devices bounce (CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC). */
    DIRECT_KMALLOC_BOUNCE("6.5", null, "non-coherent small kmalloc buffers bounce through swiotlb"),
    /**
     * dma-direct itself handles {@code DMA_ATTR_NO_KERNEL_MAPPING} (d98849aff879): the pages are not zeroed and the
     * page is the cookie. Before, only the arch remap allocator did; coherent devices got zeroed linear memory.
     */
    DIRECT_NO_KERNEL_MAPPING("5.3", null, "dma-direct handles DMA_ATTR_NO_KERNEL_MAPPING (page cookie, not zeroed)"),
    /** {@code dma_direct_supported}: any mask of 32 bits or more is supported outright. */
    DIRECT_SUPPORTED_32BIT_ALWAYS("5.10", null, "dma_direct_supported accepts any mask >= 32 bits"),
    /** dma-direct sg syncs use {@code sg_phys()} instead of the DMA address, so bounced sg entries are not copied. */
    DIRECT_SG_SYNC_USES_SG_PHYS("5.0-rc1", "5.4", "sg syncs use sg_phys (bounced entries not synced)"),
    /** {@code dma_direct_map_page} reports failures with {@code report_addr} (dev_err_once + WARN_ON_ONCE). */
    DIRECT_REPORT_ADDR("5.0-rc1", "5.10", "report_addr: 'overflow ... of DMA mask' + WARN_ON_ONCE"),
    /** dma-direct WARNs "DMA addr %pad+%zu overflow (mask %llx, bus limit %llx)." once per device. */
    DIRECT_OVERFLOW_DEV_WARN_ONCE("5.10", null, "dev_WARN_ONCE 'DMA addr ... overflow (mask, bus limit)'"),
    /** {@code zone_dma_limit} (a byte limit) replaces {@code zone_dma_bits}. */
    ZONE_DMA_LIMIT("6.12", null, "zone_dma_limit replaces zone_dma_bits"),
    /** Three atomic pools (DMA, DMA32, kernel), grown on demand ({@code kernel/dma/pool.c}). */
    ATOMIC_POOLS_PER_ZONE("5.8", null, "per-zone atomic pools"),
    /** The default {@code dma_get_seg_boundary} for a device without dma_parms is ULONG_MAX (was 0xffffffff). */
    SEG_BOUNDARY_DEFAULT_ALL_ONES("5.10", null, "default segment boundary all ones"),

    // ---- swiotlb ----
    /**
     * The generic {@code swiotlb_dma_ops} table (arm64 uses it from 4.20, 886643b76632). Its error check is
     * {@code dma_direct_mapping_error}; the overflow buffer had already been removed in 4.20 (dff8d6c1ed58).
     */
    SWIOTLB_DMA_OPS(null, "5.0-rc1", "generic swiotlb_dma_ops table (arm64 native ops)"),
    /** {@code io_tlb_used} and the early "not enough free slots" exit of the slot search (60513ed06a41). */
    SWIOTLB_USED_COUNT("5.1", null, "io_tlb_used counter and early exit when too few slots are free"),
    /** The "buffer is full" message adds ", total %lu (slots), used %lu (slots)" (53b29c336830). */
    SWIOTLB_FULL_MESSAGE_TOTALS("5.2", null, "'swiotlb buffer is full' reports total/used slots"),
    /** The full message is rate limited per call site ({@code dev_warn_ratelimited}) instead of globally. */
    SWIOTLB_FULL_MESSAGE_PER_SITE_RATELIMIT("5.17", null, "'buffer is full' uses dev_warn_ratelimited"),
    /** {@code min_align_mask} preserved in the bounce address. */
    SWIOTLB_MIN_ALIGN("5.12", null, "min_align_mask offset preserved"),
    /** Slots remember {@code alloc_size}; unmap frees from it instead of the caller's size. */
    SWIOTLB_STORED_ALLOC_SIZE("5.13", null, "slot alloc_size stored; unmap frees from it"),
    /** The bounce is always filled from the original on map, every direction (901c7280ca0d; stable 5.10+). */
    SWIOTLB_COPY_ON_MAP_ALWAYS("5.18", null, "map always copies orig->bounce (CVE-2022-0854)"),
    /** The {@code swiotlb_bounced} tracepoint reports a bool {@code force} rather than the swiotlb_force enum. */
    SWIOTLB_TRACE_FORCE_BOOL("5.18", null, "swiotlb_bounced prints FORCE/NORMAL from a bool"),
    /** Per-CPU areas, each with its own index, lock and used count. */
    SWIOTLB_AREAS("6.0", null, "per-CPU swiotlb areas"),
    /** The slot search walks {@code slots_checked} from the unrounded area cursor (0eee5ae10256). */
    SWIOTLB_SEARCH_SLOTS_CHECKED("6.3", null, "slot search from the unrounded cursor, counting checked slots"),
    /** The 6.9 search: separate alloc-alignment test, stride from both masks, pad slots. */
    SWIOTLB_ALIGN_TWO_TEST("6.9", null, "6.9 slot search (alloc-align test, pad slots)"),

    // ---- arch ----
    /** arm64 devices without an IOMMU get NULL dma_ops: {@code get_arch_dma_ops()} is NULL. */
    ARM64_DMA_DIRECT("5.0-rc1", null, "arm64 uses dma-direct (NULL ops)"),
    /** arm64 {@code arch_sync_dma_for_device} always cleans, never invalidates (c50f11c6196f; stable 5.4+). */
    ARM64_CLEAN_ON_MAP("5.19", null, "arm64 map always cleans (no invalidate for FROM_DEVICE)"),
    /** arm64 Oopses print {@code EC = 0x25: DABT (current EL)} instead of {@code Exception class = ...} (5.4). */
    ARM64_OOPS_EC_HEX("5.4", null, "arm64 mem abort decode prints the EC in hex"),

    // ---- dma-debug (kernel/dma/debug.c) ----
    /** dma-debug reports cache-line tracking's -EEXIST: overlapping device-writable mappings (2b4bbc6231d7). */
    DMA_DEBUG_EEXIST("5.14", null, "dma-debug warns on overlapping device-writable cache lines (EEXIST)"),
    /** arm64's 52-bit-VA layout: the linear map in the lower half of the kernel VA range (0xffff000000000000). */
    ARM64_FLIPPED_VA("5.4", null, "arm64 linear map at 0xffff000000000000 (VA space flip)"),
    /** arm32 LPAE kernels use dma-direct and swiotlb instead of arm_dma_ops (ad3c7b18c5b3). */
    ARM32_LPAE_DMA_DIRECT("5.3", null, "arm32 LPAE uses dma-direct/swiotlb"),
    /** arm64 has ZONE_DMA (sized from firmware), not only ZONE_DMA32. */
    ARM64_ZONE_DMA("5.5", null, "arm64 ZONE_DMA from the firmware's DMA limits"),
    /** arm64 {@code arch_dma_prep_coherent} only cleans (no invalidate) the linear alias of a remapped buffer. */
    ARM64_PREP_COHERENT_CLEAN_ONLY("6.0", null, "arm64 arch_dma_prep_coherent cleans only"),
    /** arm32 uses dma-direct instead of its own {@code arm_dma_ops} for non-IOMMU devices. */
    ARM32_DMA_DIRECT("5.19", null, "arm32 uses dma-direct"),

    // ---- drivers ----
    /** sata_sil24 no longer clears its command blocks after {@code dmam_alloc_coherent} (Huang, 5.3). */
    SIL24_NO_MEMSET("5.3", null, "sata_sil24 relies on dma_alloc_coherent zeroing"),
    /** sata_sil24 sets both masks with {@code dma_set_mask_and_coherent(64)}, no 32-bit fallback (hch, 5.4). */
    SIL24_MASK_AND_COHERENT("5.4", null, "sata_sil24: dma_set_mask_and_coherent(64) or fail"),

    // ---- Xen (the seed) ----
    /** arm64 {@code arch_setup_dma_ops} saves {@code dev->dma_ops} in {@code archdata.dev_dma_ops} for Xen. */
    XEN_ARM64_ARCHDATA_OPS(null, "5.0", "arm64 saves archdata.dev_dma_ops for xen-swiotlb"),
    /** arm32 keeps {@code archdata.dev_dma_ops} for Xen. */
    XEN_ARM32_ARCHDATA_OPS(null, "5.4", "arm32 saves archdata.dev_dma_ops for xen-swiotlb"),
    /** arm64 has its own page-coherent header calling dma_direct_* (60d8cd572f65, 5.0-rc cycle). */
    XEN_ARM64_HEADER_FIXED("5.0", null, "arm64 xen page-coherent calls dma_direct_* (60d8cd572f65)"),
    /** swiotlb-xen cleanups: pfn_valid local test everywhere, no page-coherent.h native ops. */
    XEN_PAGE_COHERENT_REWORK("5.4", null, "swiotlb-xen cleanups (pfn_valid everywhere)"),
    /**
     * {@code dma_cache_maint} simplified ("xen/arm: simplify dma_cache_maint", 5.4): the caller picks the op and the
     * loop steps the frame address by the chunk length, so a buffer that starts inside a frame and crosses into the
     * next one has its second frame maintained at the first frame's address.
     */
    XEN_CACHE_MAINT_SIMPLE("5.4", null, "dma_cache_maint steps the address by the chunk length"),
    /**
     * x86 {@code xen_swiotlb_alloc_coherent} marks exchanged pages {@code PageXenRemapped} and the free path undoes
     * exactly those, warning instead for a region that is out of reach (Gross, 5.3). Before, it undid the exchange
     * of every region within the mask or straddling frames (the condition of 4855c92dbb7b, 2018), exchanged or not.
     */
    XEN_REMAPPED_PAGES("5.3", null, "swiotlb-xen undoes exactly the exchanges it made (PageXenRemapped)"),
    /**
     * hch's swiotlb-xen cleanups (5.2): {@code xen_swiotlb_map_sg} loops over {@code xen_swiotlb_map_page} (so it
     * traces {@code swiotlb_bounced}, re-checks the bounce address and returns 0 on failure without a message of its
     * own), and the sg syncs call the single syncs.
     */
    XEN_MAP_SG_VIA_MAP_PAGE("5.2", null, "xen_swiotlb_map_sg maps each entry with map_page"),
    /**
     * arm: {@code xen_swiotlb_init} reuses a generic pool set up at boot instead of allocating its own ("don't
     * initialize swiotlb twice on arm64", Stabellini, 5.2); {@code start_dma_addr} is then left 0.
     */
    XEN_REUSE_BOOT_POOL("5.2", null, "swiotlb-xen reuses a boot-time swiotlb pool on arm"),
    /** {@code xen_phys_to_dma} / {@code xen_dma_to_phys}: dma_range_map applied on top of the bfn (5.10). */
    XEN_PHYS_TO_DMA("5.10", null, "swiotlb-xen applies phys_to_dma on top of pfn_to_bfn"),
    /**
     * swiotlb-xen uses the generic swiotlb pool (5.19: arm reuses or late-allocates the default pool, x86 remaps it
     * with {@code xen_swiotlb_fixup}); arm's ops allocate with {@code dma_direct_alloc} directly.
     */
    XEN_SWIOTLB_GENERIC_POOL("5.19", null, "swiotlb-xen shares the generic swiotlb pool; arm .alloc = dma_direct"),
    /**
     * Coherent allocations whose physical address is aligned to their order must also be machine-aligned, else they
     * are exchanged (9f40ec84a797, 6.12; in 6.12.16+ only alloc/free test it, {@code range_requires_alignment} —
     * streaming maps only need machine-contiguous frames); the allocated size is rounded to Xen pages.
     */
    XEN_STRADDLE_ALIGNMENT("6.12", null, "coherent buffers must be machine-aligned to their order"),
    /**
     * x86 PV {@code xen_create_contiguous_region} grows its frame array for orders above 9 once boot is over
     * (e93ec87286bd, in 6.12.16+): regions larger than 2 MiB can be exchanged.
     */
    XEN_PV_LARGE_CONTIG("6.12", null, "x86 PV contiguous regions may exceed 2 MiB"),
    /** {@code xen_swiotlb_dma_ops.max_mapping_size = swiotlb_max_mapping_size} (Patocka, 6.7). */
    XEN_MAX_MAPPING_SIZE("6.7", null, "swiotlb-xen caps mappings at swiotlb_max_mapping_size"),
    /** arm and arm64 install the ops through {@code xen_setup_dma_ops}/{@code xen_swiotlb_detect()} (5.13). */
    XEN_SETUP_DMA_OPS("5.13", null, "xen_setup_dma_ops: swiotlb-xen iff xen_swiotlb_detect()");

    private final String since;
    private final String until;
    private final String summary;

    Feature(String since, String until, String summary) {
        this.since = since;
        this.until = until;
        this.summary = summary;
    }

    /** First mainline version with the behaviour, or null if it predates every modelled version. */
    public String since() {
        return since;
    }

    /** First mainline version without it, or null if it is still present. */
    public String until() {
        return until;
    }

    public String summary() {
        return summary;
    }

    /** A kebab-case name for output ({@code direct-bypass}). */
    public String displayName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
