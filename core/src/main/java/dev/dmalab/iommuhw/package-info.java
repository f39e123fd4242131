/**
 * IOMMU hardware: the translation tables of each domain ({@link dev.dmalab.iommuhw.IoPageTable}), the IOTLB that
 * caches their entries and keeps stale ones until software invalidates them ({@link dev.dmalab.iommuhw.Iotlb}),
 * the unit that holds each device's context (translated, passthrough, blocked) and records faults ({@link
 * dev.dmalab.iommuhw.IommuUnit}). Models what Intel VT-d ({@code drivers/iommu/intel/}) and Arm SMMUv3 ({@code
 * drivers/iommu/arm/arm-smmu-v3/}) do to a device's access, not their register interfaces.
 *
 * <p>May use: {@code util}.
 */
package dev.dmalab.iommuhw;
