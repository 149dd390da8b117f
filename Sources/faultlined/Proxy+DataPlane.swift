public import FaultlineControl
import FaultlineProxy

/// The proxy is the control side's data plane; `apply`, `workerCount` and `openConnections`
/// already have the protocol's shape.
extension Proxy: DataPlane {}
