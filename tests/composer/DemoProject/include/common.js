// Shared helpers of the project, included as text by every generated document.
function isEmpty(value) {
  return value === undefined || value === null || value === '';
}
function describeCall(ixn) {
  return ixn.voice.type + ' call from ' + ixn.voice.ani + ' to ' + ixn.voice.dnis;
}
