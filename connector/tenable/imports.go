package tenable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// MaxImportBodyBytes is the documented limit of one POST /import/assets request
// ("cannot exceed 5 MB"); bodies are kept strictly below it.
const MaxImportBodyBytes = 5_000_000

// ImportAsset is one asset of POST /import/assets, with the attribute types of the
// documented import schema: several identifiers are arrays, others single strings.
// At least one of FQDN, IPv4, NetBIOSName or MACAddress is required, and AWS,
// Azure and GCP attributes must not be mixed in one request.
type ImportAsset struct {
	FQDN              []string `json:"fqdn,omitzero"`
	IPv4              []string `json:"ipv4,omitzero"`
	IPv6              []string `json:"ipv6,omitzero"`
	IPAddress         []string `json:"ip_address,omitzero"` // legacy alias of ipv4
	MACAddress        []string `json:"mac_address,omitzero"`
	Hostname          []string `json:"hostname,omitzero"`
	OperatingSystem   []string `json:"operating_system,omitzero"`
	InstalledSoftware []string `json:"installed_software,omitzero"` // CPE 2.2 strings
	BigFixAssetID     []string `json:"bigfix_asset_id,omitzero"`

	NetBIOSName           string `json:"netbios_name,omitzero"`
	SSHFingerprint        string `json:"ssh_fingerprint,omitzero"`
	BIOSUUID              string `json:"bios_uuid,omitzero"`
	ManufacturerTPMID     string `json:"manufacturer_tpm_id,omitzero"`
	McAfeeEPOGUID         string `json:"mcafee_epo_guid,omitzero"`
	McAfeeEPOAgentGUID    string `json:"mcafee_epo_agent_guid,omitzero"`
	SymantecEPHardwareKey string `json:"symantec_ep_hardware_key,omitzero"`
	QualysAssetID         string `json:"qualys_asset_id,omitzero"`
	QualysHostID          string `json:"qualys_host_id,omitzero"`
	// ServiceNowSysID is spelled servicenow_sys_id in the import schema, unlike the
	// export field and filter servicenow_sysid.
	ServiceNowSysID string `json:"servicenow_sys_id,omitzero"`

	GCPProjectID  string `json:"gcp_project_id,omitzero"`
	GCPZone       string `json:"gcp_zone,omitzero"`
	GCPInstanceID string `json:"gcp_instance_id,omitzero"`

	AzureVMID       string `json:"azure_vm_id,omitzero"`
	AzureResourceID string `json:"azure_resource_id,omitzero"`

	AWSAvailabilityZone     string `json:"aws_availability_zone,omitzero"`
	AWSEC2InstanceID        string `json:"aws_ec2_instance_id,omitzero"`
	AWSEC2InstanceAMIID     string `json:"aws_ec2_instance_ami_id,omitzero"`
	AWSEC2InstanceGroupName string `json:"aws_ec2_instance_group_name,omitzero"`
	AWSEC2InstanceStateName string `json:"aws_ec2_instance_state_name,omitzero"`
	AWSEC2InstanceType      string `json:"aws_ec2_instance_type,omitzero"`
	AWSEC2Name              string `json:"aws_ec2_name,omitzero"`
	AWSEC2ProductCode       string `json:"aws_ec2_product_code,omitzero"`
	AWSOwnerID              string `json:"aws_owner_id,omitzero"`
	AWSRegion               string `json:"aws_region,omitzero"`
	AWSSubnetID             string `json:"aws_subnet_id,omitzero"`
	AWSVPCID                string `json:"aws_vpc_id,omitzero"`
}

// ImportRequest is the body of POST /import/assets.
type ImportRequest struct {
	Source string        `json:"source"`
	Assets []ImportAsset `json:"assets"`
}

// ImportJobStatus is the state of an asset import job.
type ImportJobStatus string

// Import job states.
const (
	ImportInProgress ImportJobStatus = "IN_PROGRESS"
	ImportComplete   ImportJobStatus = "COMPLETE"
	ImportError      ImportJobStatus = "ERROR"
)

// ImportJob is an asset import job. Times are epoch milliseconds; while a job is
// IN_PROGRESS, EndTime equals StartTime, so use Status to tell completion.
type ImportJob struct {
	JobID          string          `json:"job_id"`
	ContainerID    string          `json:"container_id"`
	Source         string          `json:"source"`
	Batches        int             `json:"batches"`
	UploadedAssets int             `json:"uploaded_assets"`
	FailedAssets   int             `json:"failed_assets"`
	StartTime      int64           `json:"start_time"`
	LastUpdateTime int64           `json:"last_update_time"`
	EndTime        int64           `json:"end_time"`
	Status         ImportJobStatus `json:"status"`
	StatusMessage  string          `json:"status_message"`
}

// Done reports whether the job reached COMPLETE or ERROR.
func (j ImportJob) Done() bool { return j.Status == ImportComplete || j.Status == ImportError }

// ErrImportTooLarge: an import body would reach the 5 MB limit.
var ErrImportTooLarge = errors.New("tenable: import body reaches the 5 MB limit")

// ImportAssets sends one import request and returns the import job UUID.
func (c *Client) ImportAssets(ctx context.Context, source string, assets []ImportAsset) (string, error) {
	body, err := json.Marshal(ImportRequest{Source: source, Assets: assets})
	if err != nil {
		return "", fmt.Errorf("encode import request: %w", err)
	}
	return c.ImportAssetsBody(ctx, body)
}

// ImportAssetsBody sends an already encoded POST /import/assets body (the sink
// builds bodies itself to track their exact size). Bodies of MaxImportBodyBytes or
// more are refused without being sent.
func (c *Client) ImportAssetsBody(ctx context.Context, body []byte) (string, error) {
	if len(body) >= MaxImportBodyBytes {
		return "", fmt.Errorf("import %d bytes: %w", len(body), ErrImportTooLarge)
	}
	resp, err := c.do(ctx, call{method: http.MethodPost, path: "/import/assets", body: body})
	if err != nil {
		return "", fmt.Errorf("import assets: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		JobUUID string `json:"asset_import_job_uuid"`
	}
	if err := json.UnmarshalRead(resp.Body, &out); err != nil {
		return "", fmt.Errorf("import assets: decode response: %w", err)
	}
	if out.JobUUID == "" {
		return "", errors.New("import assets: answer has no asset_import_job_uuid")
	}
	return out.JobUUID, nil
}

// ImportJob fetches one import job.
func (c *Client) ImportJob(ctx context.Context, uuid string) (ImportJob, error) {
	var job ImportJob
	if _, err := c.doJSON(ctx, http.MethodGet, "/import/asset-jobs/"+uuid, nil, nil, &job); err != nil {
		return job, fmt.Errorf("import job %s: %w", uuid, err)
	}
	return job, nil
}

// ImportJobs lists the recent import jobs.
func (c *Client) ImportJobs(ctx context.Context) ([]ImportJob, error) {
	var out struct {
		Jobs []ImportJob `json:"asset_import_jobs"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/import/asset-jobs", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list import jobs: %w", err)
	}
	return out.Jobs, nil
}

// WaitImportJob polls an import job until it is COMPLETE or ERROR, waiting
// interval between polls (default 2s).
func (c *Client) WaitImportJob(ctx context.Context, uuid string, interval time.Duration) (ImportJob, error) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	for {
		job, err := c.ImportJob(ctx, uuid)
		if err != nil {
			return job, err
		}
		if job.Done() {
			return job, nil
		}
		if err := retry.Wait(ctx, c.cfg.Clock, interval); err != nil {
			return job, fmt.Errorf("import job %s: %w", uuid, err)
		}
	}
}
