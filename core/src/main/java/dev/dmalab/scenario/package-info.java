/**
 * What drivers and devices do, and the runner that executes it on a booted machine. This issue provides workloads
 * written in Java ({@link dev.dmalab.scenario.Workloads}); the scenario issue adds the YAML language. A run's
 * outcome is {@code ok}, {@code oops} (the modelled kernel crashed) or {@code failed} (the workload found wrong
 * data or could not map).
 *
 * <p>May use: {@code replay}, {@code trace}, {@code platform}, {@code driver}, {@code check}, {@code xen}, {@code direct}, {@code
 * swiotlb}, {@code arch}, {@code dma}, {@code kernel}, {@code device}, {@code hypervisor}, {@code iommuhw}, {@code cache}, {@code
 * memory}, {@code util}.
 */
package dev.dmalab.scenario;
