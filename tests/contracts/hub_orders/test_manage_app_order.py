from tests.contracts.hub_orders._helpers import APP, ManageAssetOrderContract


class TestManageAppOrder(ManageAssetOrderContract):
    KIND = APP
