from tests.contracts.market_orders._helpers import APP, ManageAssetOrderContract


class TestManageAppOrder(ManageAssetOrderContract):
    KIND = APP
