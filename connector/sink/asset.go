package sink

import (
	"fmt"
)

// Cloud is the cloud provider whose attributes an asset carries; one import
// request never mixes providers.
type Cloud uint8

// The cloud providers of Tenable's import attributes.
const (
	CloudNone  Cloud = iota // no aws_*, azure_* or gcp_* attribute
	CloudAWS                // aws_* attributes
	CloudAzure              // azure_* attributes
	CloudGCP                // gcp_* attributes
)

// String names the provider.
func (c Cloud) String() string {
	switch c {
	case CloudNone:
		return "none"
	case CloudAWS:
		return "AWS"
	case CloudAzure:
		return "Azure"
	case CloudGCP:
		return "GCP"
	default:
		return fmt.Sprintf("Cloud(%d)", uint8(c))
	}
}

// Asset is one validated inbound asset: JSON is the compact JSON object of one
// import asset (only documented attributes, documented types, no nulls or
// empties, attributes in the order of tenable.ImportAsset), Cloud its provider.
type Asset struct {
	JSON  []byte
	Cloud Cloud
}
